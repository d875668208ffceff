//! This instance's search index, built from the store and kept current by following the
//! catalog's change log (`ap_store::search`).
//!
//! The first [`Indexer::catch_up`] builds the index from every live listing (reading the
//! newest log position first, so nothing committed meanwhile is missed); each later one
//! re-reads the listings named by new log entries and upserts or removes them. The
//! server calls it at start-up, every [`FOLLOW_INTERVAL`], and right after this
//! instance changes the catalog, so its own writes are searchable when they answer.
//!
//! A change to more than download or install counts also drops this instance's catalog
//! caches, so every instance shows it within a follow interval, not a cache TTL.
//!
//! On PostgreSQL a log entry can commit after a later one (ids are taken when a
//! transaction writes, not when it commits). Ids skipped over are remembered as gaps and
//! asked for again until they appear or [`GAP_PATIENCE`] passes (a rolled-back
//! transaction leaves a gap for ever). The log is pruned to its newest [`KEPT_CHANGES`]
//! entries; an instance that finds entries it has not read pruned away rebuilds.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ap_domain::Code;
use ap_domain::ErrorCode;
use ap_domain::listing::CatalogFilter;
use ap_search::{Ranked, SearchError, SearchIndex};
use ap_store::search as log;
use ap_store::{Conn, Db, StoreError, UnitError};

use crate::cache::CatalogCache;

/// How often the server follows the change log.
pub const FOLLOW_INTERVAL: Duration = Duration::from_millis(200);
/// How long a skipped log id is waited for.
pub const GAP_PATIENCE: Duration = Duration::from_secs(10);
/// How many log entries are kept.
pub const KEPT_CHANGES: i64 = 50_000;
/// Log entries read per step, and listings per page of a rebuild.
const BATCH: i64 = 2_000;
/// How far behind the newest entry a rebuild looks for gaps.
const GAP_LOOKBACK: i64 = 1_000;
/// How often the log is pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// Why the index could not follow the store.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The index failed.
    #[error(transparent)]
    Search(#[from] SearchError),
}

impl UnitError for IndexError {
    fn store_error(&self) -> Option<&StoreError> {
        match self {
            IndexError::Store(e) => Some(e),
            IndexError::Search(_) => None,
        }
    }
}

impl ErrorCode for IndexError {
    fn code(&self) -> Code {
        match self {
            IndexError::Store(e) => e.code(),
            IndexError::Search(_) => Code::Internal,
        }
    }
}

/// Where the follower stands in the log.
#[derive(Debug, Default, Clone)]
struct Position {
    /// The newest entry applied; `None` until the index is built.
    cursor: Option<i64>,
    /// Ids below the cursor not seen yet, with when they were first missed.
    gaps: BTreeMap<i64, Instant>,
    /// When the log was last pruned.
    pruned_at: Option<Instant>,
}

/// Seconds since the epoch, now (the time gauges' unit).
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// This instance's search index and its place in the change log.
#[derive(Debug)]
pub struct Indexer {
    db: Db,
    index: Arc<SearchIndex>,
    cache: Arc<CatalogCache>,
    position: tokio::sync::Mutex<Position>,
    /// Set once the first build is done (searches never wait on the follower's lock).
    built: AtomicBool,
}

/// Builds the index from every live listing; answers the log position it reflects and
/// the ids just below it not committed yet.
fn rebuild(conn: &mut Conn, index: &SearchIndex) -> Result<Position, IndexError> {
    let latest = log::latest_change(conn)?.unwrap_or(0);
    let mut update = index.update()?;
    update.clear()?;
    let mut after: Option<String> = None;
    loop {
        let rows = log::live_index_rows(conn, after.as_deref(), BATCH)?;
        let full = rows.len() as i64 == BATCH;
        after = rows.last().map(|r| r.listing.id.clone());
        for row in rows {
            update.insert(&row.listing)?;
        }
        if !full {
            break;
        }
    }
    update.commit_compacted()?;
    let floor = latest.saturating_sub(GAP_LOOKBACK);
    let present: HashSet<i64> =
        log::changes_after(conn, floor, GAP_LOOKBACK)?.into_iter().map(|c| c.id).collect();
    let now = Instant::now();
    let gaps =
        (floor + 1..=latest).filter(|id| !present.contains(id)).map(|id| (id, now)).collect();
    Ok(Position { cursor: Some(latest), gaps, pruned_at: None })
}

/// Applies the entries after the cursor (and any gap that appeared): re-reads their
/// listings, upserts the live ones and removes the rest. Answers whether more than
/// counts changed.
fn follow(
    conn: &mut Conn,
    index: &SearchIndex,
    position: &mut Position,
) -> Result<bool, IndexError> {
    let Some(cursor) = position.cursor else { return Ok(false) };
    if log::oldest_change(conn)?.is_some_and(|oldest| oldest > cursor + 1) {
        tracing::warn!(cursor, "the change log was pruned past this index; rebuilding it");
        *position = rebuild(conn, index)?;
        return Ok(true);
    }
    let now = Instant::now();
    position.gaps.retain(|_, missed| now.duration_since(*missed) < GAP_PATIENCE);
    let gap_ids: Vec<i64> = position.gaps.keys().copied().collect();
    let mut changes = log::changes_among(conn, &gap_ids)?;
    for change in &changes {
        position.gaps.remove(&change.id);
    }
    let newer = log::changes_after(conn, cursor, BATCH)?;
    let mut expected = cursor + 1;
    for change in &newer {
        for skipped in expected..change.id {
            position.gaps.insert(skipped, now);
        }
        expected = change.id + 1;
    }
    if let Some(last) = newer.last() {
        position.cursor = Some(last.id);
    }
    changes.extend(newer);
    let content = changes.iter().any(log::Change::is_content);
    if !changes.is_empty() {
        let mut ids: Vec<&str> = changes.iter().map(|c| c.listing_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let rows = log::index_rows(conn, &ids)?;
        let mut update = index.update()?;
        // One delete per listing: an upsert replaces a live one; the rest (unpublished,
        // gone) are removed.
        let live: HashSet<&str> =
            rows.iter().filter(|r| r.live).map(|r| r.listing.id.as_str()).collect();
        for id in ids.iter().filter(|id| !live.contains(*id)) {
            update.remove(id);
        }
        for row in rows.iter().filter(|r| r.live) {
            update.upsert(&row.listing)?;
        }
        update.commit()?;
    }
    if position.pruned_at.is_none_or(|at| now.duration_since(at) >= PRUNE_EVERY) {
        let kept_from = position.cursor.unwrap_or(0).saturating_sub(KEPT_CHANGES);
        log::prune_changes(conn, kept_from)?;
        position.pruned_at = Some(now);
    }
    Ok(content)
}

impl Indexer {
    /// A follower of `db`'s change log into `index` (built by its first catch-up) that
    /// drops `cache` entries when the catalog's content changes.
    pub fn new(db: Db, index: SearchIndex, cache: Arc<CatalogCache>) -> Self {
        Self {
            db,
            index: Arc::new(index),
            cache,
            position: tokio::sync::Mutex::new(Position::default()),
            built: AtomicBool::new(false),
        }
    }

    /// Builds the index if this is the first call, else applies the log entries written
    /// since the last one (up to a batch; the next call takes the rest).
    pub async fn catch_up(&self) -> Result<(), IndexError> {
        let mut position = self.position.lock().await;
        let mut current = position.clone();
        let index = Arc::clone(&self.index);
        // On failure the position stays where it was: applying entries again is harmless.
        // No work deadline: a rebuild takes as long as the catalog is large, and one
        // abandoned at a deadline would be started again while it still runs.
        let (current, changed) = self
            .db
            .run_unbounded(move |conn| {
                let changed = match current.cursor {
                    None => {
                        current = rebuild(conn, &index)?;
                        true
                    }
                    Some(_) => follow(conn, &index, &mut current)?,
                };
                Ok::<_, IndexError>((current, changed))
            })
            .await?;
        if current.cursor.is_some() {
            self.built.store(true, Ordering::Release);
            metrics::gauge!("ap_search_index_caught_up_timestamp_seconds").set(unix_now());
        }
        *position = current;
        if changed {
            self.cache.invalidate();
        }
        Ok(())
    }

    /// After this instance changed the catalog: catches up, so the change is searchable
    /// when it answers, and drops the caches. A failure to catch up is logged (the
    /// periodic follow retries it) because the change itself is done.
    pub async fn after_change(&self) {
        if let Err(error) = self.catch_up().await {
            tracing::warn!(%error, "search index not caught up yet; retrying shortly");
        }
        self.cache.invalidate();
    }

    /// The best `window` matches of `terms` under `filter`, building the index first if
    /// it never was.
    pub async fn search(
        &self,
        terms: &[String],
        filter: &CatalogFilter,
        window: usize,
    ) -> Result<Ranked, IndexError> {
        if !self.built.load(Ordering::Acquire) {
            self.catch_up().await?;
        }
        Ok(self.index.search(terms, filter, window)?)
    }

    /// How many listings the index holds.
    pub fn len(&self) -> u64 {
        self.index.len()
    }

    /// Whether the index holds no listing.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}
