//! Short-lived caches of one server instance: list totals, the ids of list pages, ranked
//! search windows and category counts (computed once per key at a time: concurrent misses
//! wait for the first computation instead of repeating it), and listing summaries,
//! details and stored details.
//!
//! Each cache is bounded by the bytes its entries take (an estimate per entry, see
//! [`Footprint`]), not by their number, so the server's memory stays bounded whatever
//! the traffic: [`CACHE_BUDGET`] in all.
//!
//! Entries expire after a TTL and are dropped at once when this instance changes the
//! catalog ([`CatalogCache::invalidate`]); other instances see such a change within the
//! TTL. Counters on cached summaries (downloads, installs) may lag by up to the TTL.

use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ap_domain::listing::{CatalogFilter, ListingType, SortOrder};
use ap_domain::page::PageRequest;
use ap_domain::wire::{CategoriesResponse, ListingDetail, ListingSummary};
use ap_search::Ranked;
use bytes::Bytes;
use quick_cache::sync::EntryAction;
use quick_cache::sync::EntryResult;

#[derive(Clone)]
struct Entry<V> {
    value: V,
    stored_at: Instant,
    generation: u64,
    /// Set by the one request that refreshes this entry ahead of its expiry.
    refreshing: Arc<AtomicBool>,
}

impl<V> Entry<V> {
    fn new(value: V, generation: u64) -> Self {
        Self {
            value,
            stored_at: Instant::now(),
            generation,
            refreshing: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// What a cache lookup decided.
enum Lookup<V> {
    /// A fresh value.
    Hit(V),
    /// A fresh value, old enough that this caller refreshes it (others keep using it).
    RefreshAhead(Arc<AtomicBool>),
}

/// Bytes all the caches of an instance may hold, split below.
pub const CACHE_BUDGET: u64 = 48 << 20;

/// About how many bytes a cached value takes (its heap parts included).
pub trait Footprint {
    /// The estimate.
    fn footprint(&self) -> u64;
}

fn text(s: &str) -> u64 {
    s.len() as u64 + 24
}

impl Footprint for i64 {
    fn footprint(&self) -> u64 {
        64
    }
}

impl Footprint for bool {
    fn footprint(&self) -> u64 {
        128
    }
}

impl Footprint for Arc<[String]> {
    fn footprint(&self) -> u64 {
        64 + self.iter().map(|id| text(id)).sum::<u64>()
    }
}

impl Footprint for Arc<Ranked> {
    fn footprint(&self) -> u64 {
        64 + self.ids.iter().map(|id| text(id)).sum::<u64>()
    }
}

impl Footprint for Arc<CategoriesResponse> {
    fn footprint(&self) -> u64 {
        self.categories.len() as u64 * 512
    }
}

impl Footprint for Arc<ListingSummary> {
    fn footprint(&self) -> u64 {
        let s = &**self;
        256 + [&s.slug, &s.title, &s.description, &s.category, &s.author.display_name]
            .iter()
            .map(|t| text(t))
            .sum::<u64>()
    }
}

impl Footprint for Arc<LiveDetail> {
    fn footprint(&self) -> u64 {
        let d = &self.detail;
        1024 + Arc::new(d.summary.clone()).footprint()
            + text(&d.long_description)
            + 512 * (d.versions.len() + d.security_findings.len()) as u64
    }
}

impl Footprint for Bytes {
    fn footprint(&self) -> u64 {
        64 + self.len() as u64
    }
}

/// Weighs cache entries by their values' footprint.
#[derive(Clone, Copy, Default)]
struct ByFootprint;

impl<K, V: Footprint> quick_cache::Weighter<K, Entry<V>> for ByFootprint {
    fn weight(&self, _key: &K, entry: &Entry<V>) -> u64 {
        entry.value.footprint().max(1)
    }
}

/// A map bounded by bytes whose entries expire after the TTL or when the generation
/// moves on.
struct TtlCache<K, V> {
    entries: quick_cache::sync::Cache<K, Entry<V>, ByFootprint>,
}

impl<K: Eq + Hash + Clone, V: Clone + Footprint> TtlCache<K, V> {
    /// A cache of at most `bytes`, expecting entries of about `typical` bytes.
    fn new(bytes: u64, typical: u64) -> Self {
        let items = usize::try_from(bytes / typical.max(1)).unwrap_or(1).max(1);
        Self { entries: quick_cache::sync::Cache::with_weighter(items, bytes.max(1), ByFootprint) }
    }
}

/// The key of a ranked search window.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SearchKey {
    /// Normalised search terms.
    pub terms: Vec<String>,
    /// Type, category and price filters.
    pub filter: CatalogFilter,
    /// How many of the best matches are ranked.
    pub window: i64,
}

/// The key of a list page: filter, order, page.
pub type PageKey = (CatalogFilter, SortOrder, PageRequest);

/// A live listing's detail with what the unified detail adds to it.
#[derive(Debug, Clone)]
pub struct LiveDetail {
    /// The listing's id (to count views).
    pub listing_id: String,
    /// The detail as `GET /v1/skills/{slug}` shows it.
    pub detail: ListingDetail,
    /// Creation of the listing.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Content hash of the live version.
    pub scan_hash: Option<String>,
    /// When the live version was scanned.
    pub scanned_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Caches of one server instance.
pub struct CatalogCache {
    ttl: Duration,
    generation: AtomicU64,
    totals: TtlCache<CatalogFilter, i64>,
    pages: TtlCache<PageKey, Arc<[String]>>,
    searches: TtlCache<SearchKey, Arc<Ranked>>,
    categories: TtlCache<(), Arc<CategoriesResponse>>,
    summaries: TtlCache<String, Arc<ListingSummary>>,
    details: TtlCache<(String, Option<ListingType>), Arc<LiveDetail>>,
    documents: TtlCache<(String, Option<ListingType>), Bytes>,
    servable: TtlCache<String, bool>,
}

/// How long whether a version may be served is remembered (at most; never longer than
/// the TTL): the signed file route honours another instance's withdrawal within it.
pub const SERVABLE_TTL: Duration = Duration::from_secs(1);

impl std::fmt::Debug for CatalogCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatalogCache").field("ttl", &self.ttl).finish_non_exhaustive()
    }
}

impl CatalogCache {
    /// Caches whose entries live `ttl` (zero disables caching).
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            generation: AtomicU64::new(0),
            totals: TtlCache::new(CACHE_BUDGET / 64, 64),
            pages: TtlCache::new(CACHE_BUDGET / 16, 1_200),
            searches: TtlCache::new(CACHE_BUDGET / 8, 6_000),
            categories: TtlCache::new(64 << 10, 8 << 10),
            summaries: TtlCache::new(CACHE_BUDGET / 2, 500),
            details: TtlCache::new(CACHE_BUDGET / 8, 4_000),
            documents: TtlCache::new(CACHE_BUDGET / 8, 1_100),
            servable: TtlCache::new(1 << 20, 128),
        }
    }

    /// Drops every entry (call after any change to the catalog).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn fresh<V>(&self, entry: &Entry<V>) -> bool {
        entry.generation == self.generation() && entry.stored_at.elapsed() < self.ttl
    }

    fn get<K: Eq + Hash + Clone, V: Clone + Footprint>(
        &self,
        cache: &TtlCache<K, V>,
        key: &K,
    ) -> Option<V> {
        cache.entries.get(key).filter(|e| self.fresh(e)).map(|e| e.value)
    }

    fn put<K: Eq + Hash + Clone, V: Clone + Footprint>(
        &self,
        cache: &TtlCache<K, V>,
        key: K,
        value: V,
        generation: u64,
    ) {
        if !self.ttl.is_zero() {
            cache.entries.insert(key, Entry::new(value, generation));
        }
    }

    /// The fresh value of `key`, or the result of `load`, which runs once per key at a time
    /// (concurrent misses wait for it). An entry in the last quarter of its life is
    /// refreshed by one caller while everyone else keeps getting it, so a popular key
    /// never expires under load and nobody waits for its recomputation.
    async fn get_or_load<K, V, E>(
        &self,
        cache: &TtlCache<K, V>,
        key: K,
        load: impl Future<Output = Result<V, E>>,
    ) -> Result<V, E>
    where
        K: Eq + Hash + Clone,
        V: Clone + Footprint,
    {
        if self.ttl.is_zero() {
            return load.await;
        }
        let generation = self.generation();
        let refresh_after = self.ttl.mul_f64(0.75);
        let guard = match cache
            .entries
            .entry_async(&key, |_, entry| {
                if !self.fresh(entry) {
                    return EntryAction::ReplaceWithGuard;
                }
                let claimed = entry.stored_at.elapsed() >= refresh_after
                    && !entry.refreshing.swap(true, Ordering::AcqRel);
                if claimed {
                    EntryAction::Retain(Lookup::RefreshAhead(Arc::clone(&entry.refreshing)))
                } else {
                    EntryAction::Retain(Lookup::Hit(entry.value.clone()))
                }
            })
            .await
        {
            EntryResult::Retained(Lookup::Hit(value)) => return Ok(value),
            EntryResult::Retained(Lookup::RefreshAhead(flag)) => {
                let value = load.await.inspect_err(|_| flag.store(false, Ordering::Release))?;
                self.put(cache, key, value.clone(), generation);
                return Ok(value);
            }
            EntryResult::Replaced(guard, _) | EntryResult::Vacant(guard) => Some(guard),
            EntryResult::Removed(..) | EntryResult::Timeout => None,
        };
        let value = load.await?;
        if let Some(guard) = guard.filter(|_| !self.ttl.is_zero()) {
            let _ = guard.insert(Entry::new(value.clone(), generation));
        }
        Ok(value)
    }

    /// The total of live listings for `filter`, cached.
    pub async fn total<E>(
        &self,
        filter: CatalogFilter,
        load: impl Future<Output = Result<i64, E>>,
    ) -> Result<i64, E> {
        self.get_or_load(&self.totals, filter, load).await
    }

    /// The ids of a list page, cached.
    pub async fn page<E>(
        &self,
        key: PageKey,
        load: impl Future<Output = Result<Arc<[String]>, E>>,
    ) -> Result<Arc<[String]>, E> {
        self.get_or_load(&self.pages, key, load).await
    }

    /// A ranked search window, cached.
    pub async fn search<E>(
        &self,
        key: SearchKey,
        load: impl Future<Output = Result<Arc<Ranked>, E>>,
    ) -> Result<Arc<Ranked>, E> {
        self.get_or_load(&self.searches, key, load).await
    }

    /// The category list, cached.
    pub async fn categories<E>(
        &self,
        load: impl Future<Output = Result<Arc<CategoriesResponse>, E>>,
    ) -> Result<Arc<CategoriesResponse>, E> {
        self.get_or_load(&self.categories, (), load).await
    }

    /// Whether the version with this id may be served, remembered for at most
    /// [`SERVABLE_TTL`] (dropped at once by [`CatalogCache::invalidate`]).
    pub async fn servable<E>(
        &self,
        version_id: &str,
        load: impl Future<Output = Result<bool, E>>,
    ) -> Result<bool, E> {
        let generation = self.generation();
        let cached = self.servable.entries.get(version_id).filter(|e| {
            e.generation == generation && e.stored_at.elapsed() < SERVABLE_TTL.min(self.ttl)
        });
        if let Some(entry) = cached {
            return Ok(entry.value);
        }
        let value = load.await?;
        self.put(&self.servable, version_id.to_owned(), value, generation);
        Ok(value)
    }

    /// A cached summary of the listing with this id.
    pub fn summary(&self, listing_id: &str) -> Option<Arc<ListingSummary>> {
        self.get(&self.summaries, &listing_id.to_owned())
    }

    /// Remembers a summary (`generation` read before the query that built it).
    pub fn store_summary(&self, listing_id: String, summary: Arc<ListingSummary>, generation: u64) {
        self.put(&self.summaries, listing_id, summary, generation);
    }

    /// A cached live detail.
    pub fn detail(&self, slug: &str, kind: Option<ListingType>) -> Option<Arc<LiveDetail>> {
        self.get(&self.details, &(slug.to_owned(), kind))
    }

    /// Remembers a live detail (`generation` read before the query that built it).
    pub fn store_detail(
        &self,
        slug: String,
        kind: Option<ListingType>,
        detail: Arc<LiveDetail>,
        generation: u64,
    ) {
        self.put(&self.details, (slug, kind), detail, generation);
    }

    /// A cached stored detail (`ap_store::documents`).
    pub fn document(&self, slug: &str, kind: Option<ListingType>) -> Option<Bytes> {
        self.get(&self.documents, &(slug.to_owned(), kind))
    }

    /// Remembers a stored detail (`generation` read before the query that read it).
    pub fn store_document(
        &self,
        slug: String,
        kind: Option<ListingType>,
        body: Bytes,
        generation: u64,
    ) {
        self.put(&self.documents, (slug, kind), body, generation);
    }

    /// The generation to pass to a `store_*` call: read it *before* querying, so a change
    /// that lands during the query makes the stored entry stale at once.
    pub fn current_generation(&self) -> u64 {
        self.generation()
    }
}
