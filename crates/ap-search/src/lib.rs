#![doc = include_str!("../README.md")]

mod query;
mod schema;
mod scored;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use ap_domain::listing::CatalogFilter;
pub use ap_domain::search::SearchableListing;
use tantivy::collector::{Collector, TopDocs};
use tantivy::directory::{MmapDirectory, RamDirectory};
use tantivy::query::{EnableScoring, Query};
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Score, TantivyDocument};

use crate::schema::Fields;

/// Bytes the writer may buffer before it writes a segment.
const WRITER_BUDGET: usize = 20_000_000;

/// Why the index failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// Tantivy failed (I/O on the index directory, a corrupt segment, …).
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// The index directory could not be prepared.
    #[error("search index directory: {0}")]
    Directory(#[from] std::io::Error),
    /// Another thread panicked while it held the writer.
    #[error("search index writer poisoned")]
    Poisoned,
    /// A listing id is not a UUID (every id the store makes is one).
    #[error("listing id {0:?} is not a UUID")]
    Id(String),
    /// Another process (another server instance) uses the directory.
    #[error("search index directory {0} is in use by another process; give each instance its own")]
    InUse(String),
}

impl<T> From<PoisonError<T>> for SearchError {
    fn from(_: PoisonError<T>) -> Self {
        SearchError::Poisoned
    }
}

/// A ranked window of search results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranked {
    /// Ids of the best matches, best first, at most the window asked for.
    pub ids: Vec<String>,
    /// How many live listings match in all.
    pub total: i64,
}

/// The search index of one server instance: live listings only, rebuilt from the store
/// and kept current by the caller through [`SearchIndex::update`].
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter<TantivyDocument>>,
    fields: Fields,
    /// Held for the index's lifetime: the directory belongs to this process.
    _lock: Option<std::fs::File>,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").field("docs", &self.len()).finish_non_exhaustive()
    }
}

impl SearchIndex {
    /// A new, empty index in `dir` (whatever was there is removed: the index is derived
    /// and rebuilt from the store), or in memory without a directory. A directory is
    /// locked (through `<dir>.lock`) for as long as the index lives, so a second process
    /// pointed at it fails instead of emptying it under the first.
    pub fn create(dir: Option<&Path>) -> Result<Self, SearchError> {
        let (schema, fields) = schema::build();
        let mut lock = None;
        let index = match dir {
            Some(dir) => {
                let mut lock_path = dir.as_os_str().to_owned();
                lock_path.push(".lock");
                if let Some(parent) = dir.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                let file = std::fs::File::create(&lock_path)?;
                if file.try_lock().is_err() {
                    return Err(SearchError::InUse(dir.display().to_string()));
                }
                lock = Some(file);
                if dir.exists() {
                    std::fs::remove_dir_all(dir)?;
                }
                std::fs::create_dir_all(dir)?;
                let directory = MmapDirectory::open(dir)
                    .map_err(|e| SearchError::Index(tantivy::TantivyError::from(e)))?;
                Index::create(directory, schema, schema::settings())?
            }
            None => Index::create(RamDirectory::create(), schema, schema::settings())?,
        };
        schema::register_analyzer(&index);
        let writer = index.writer_with_num_threads(1, WRITER_BUDGET)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(Self { index, reader, writer: Mutex::new(writer), fields, _lock: lock })
    }

    /// How many listings the index holds.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Whether the index holds no listing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A batch of changes, visible to searches once committed.
    pub fn update(&self) -> Result<Update<'_>, SearchError> {
        Ok(Update { index: self, writer: self.writer.lock()?, committed: false })
    }

    /// The best `window` live listings matching every term (the last one also as a
    /// prefix, a word of five letters or more the catalog does not know also with one
    /// typo) and `filter`, with the number of matches in all. No terms: nothing.
    pub fn search(
        &self,
        terms: &[String],
        filter: &CatalogFilter,
        window: usize,
    ) -> Result<Ranked, SearchError> {
        let searcher = self.reader.searcher();
        let Some(search) = query::build(&self.index, &searcher, &self.fields, terms, filter) else {
            return Ok(Ranked { ids: Vec::new(), total: 0 });
        };
        let window = window.max(1);
        // Each segment's best by score alone, so tantivy may skip what cannot reach the
        // window: a segment holds its listings most popular first, and a tie keeps the
        // earlier listing. Merged here by score, then popularity, ties across segments
        // included.
        let weight = search.ranking.weight(EnableScoring::enabled_from_searcher(&searcher))?;
        let best = TopDocs::with_limit(window).order_by_score();
        let mut hits: Vec<(Score, i64, DocAddress)> = Vec::new();
        for (ord, segment) in (0u32..).zip(searcher.segment_readers()) {
            let popularity = segment.fast_fields().i64(schema::POPULARITY)?.first_or_default_col(0);
            // One segment's fruit "merged" alone: the collector's own (score, address) list.
            let found =
                best.merge_fruits(vec![best.collect_segment(weight.as_ref(), ord, segment)?])?;
            hits.extend(
                found
                    .into_iter()
                    .map(|(score, address)| (score, popularity.get_val(address.doc_id), address)),
            );
        }
        hits.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        let addresses: Vec<DocAddress> =
            hits.into_iter().take(window).map(|(_, _, address)| address).collect();
        let total = search.matching.count(&searcher)?;
        Ok(Ranked { ids: ids_of(&searcher, &addresses)?, total: total as i64 })
    }
}

/// The listing ids of `hits`, in order, read from the id columns of their segments.
fn ids_of(searcher: &tantivy::Searcher, hits: &[DocAddress]) -> Result<Vec<String>, SearchError> {
    let mut columns = BTreeMap::new();
    let mut ids = Vec::with_capacity(hits.len());
    for address in hits {
        let (high, low) = match columns.entry(address.segment_ord) {
            std::collections::btree_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::btree_map::Entry::Vacant(entry) => {
                let fast = searcher.segment_reader(address.segment_ord).fast_fields();
                entry.insert((
                    fast.u64(schema::ID_HIGH)?.first_or_default_col(0),
                    fast.u64(schema::ID_LOW)?.first_or_default_col(0),
                ))
            }
        };
        let id =
            uuid::Uuid::from_u64_pair(high.get_val(address.doc_id), low.get_val(address.doc_id));
        ids.push(id.hyphenated().to_string());
    }
    Ok(ids)
}

/// Changes to the index under its writer; [`Update::commit`] makes them visible.
/// Dropped without a commit, they are rolled back.
pub struct Update<'a> {
    index: &'a SearchIndex,
    writer: MutexGuard<'a, IndexWriter<TantivyDocument>>,
    committed: bool,
}

impl Drop for Update<'_> {
    fn drop(&mut self) {
        if !self.committed {
            // A failed rollback leaves the writer unusable; the next update reports it.
            let _ = self.writer.rollback();
        }
    }
}

impl Update<'_> {
    /// Removes every listing (the start of a rebuild).
    pub fn clear(&mut self) -> Result<(), SearchError> {
        self.writer.delete_all_documents()?;
        Ok(())
    }

    /// Adds a listing, or replaces what the index held of it.
    pub fn upsert(&mut self, doc: &SearchableListing) -> Result<(), SearchError> {
        self.remove(&doc.id);
        self.insert(doc)
    }

    /// Adds a listing the index does not hold (after [`Update::clear`]: a rebuild).
    pub fn insert(&mut self, doc: &SearchableListing) -> Result<(), SearchError> {
        let document =
            self.index.fields.document(doc).ok_or_else(|| SearchError::Id(doc.id.clone()))?;
        self.writer.add_document(document)?;
        Ok(())
    }

    /// Removes a listing (no longer live, or gone).
    pub fn remove(&mut self, id: &str) {
        self.writer.delete_term(self.index.fields.id_term(id));
    }

    /// Makes the changes visible to searches.
    pub fn commit(mut self) -> Result<(), SearchError> {
        self.writer.commit()?;
        self.committed = true;
        self.index.reader.reload()?;
        Ok(())
    }

    /// Commits, then merges every segment into one (after a rebuild: searches then visit
    /// one segment).
    pub fn commit_compacted(mut self) -> Result<(), SearchError> {
        self.writer.commit()?;
        self.committed = true;
        let segments = self.index.index.searchable_segment_ids()?;
        if segments.len() > 1 {
            self.writer.merge(&segments).wait()?;
        }
        self.index.reader.reload()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
