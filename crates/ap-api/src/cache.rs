//! Short-lived caches for the expensive parts of catalog reads: list totals, ranked
//! search windows and category counts.
//!
//! Entries expire after a TTL and are dropped at once when this instance changes the
//! catalog ([`CatalogCache::invalidate`]); other instances see such a change within the
//! TTL. Page rows themselves are always read fresh.

use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ap_domain::listing::CatalogFilter;
use ap_domain::wire::CategoriesResponse;
use ap_store::search::Ranked;

#[derive(Clone)]
struct Entry<V> {
    value: V,
    stored_at: Instant,
    generation: u64,
}

/// A bounded map whose entries expire after `ttl` or when the generation moves on.
struct TtlCache<K, V> {
    entries: quick_cache::sync::Cache<K, Entry<V>>,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    fn new(capacity: usize) -> Self {
        Self { entries: quick_cache::sync::Cache::new(capacity) }
    }

    fn get(&self, key: &K, ttl: Duration, generation: u64) -> Option<V> {
        self.entries
            .get(key)
            .filter(|e| e.generation == generation && e.stored_at.elapsed() < ttl)
            .map(|e| e.value)
    }

    fn insert(&self, key: K, value: V, generation: u64) {
        self.entries.insert(key, Entry { value, stored_at: Instant::now(), generation });
    }
}

/// The key of a ranked search window.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SearchKey {
    /// Normalised search terms.
    pub terms: Vec<String>,
    /// Type and category filters.
    pub filter: CatalogFilter,
}

/// Caches of one server instance.
pub struct CatalogCache {
    ttl: Duration,
    generation: AtomicU64,
    totals: TtlCache<CatalogFilter, i64>,
    searches: TtlCache<SearchKey, Arc<Ranked>>,
    categories: TtlCache<(), Arc<CategoriesResponse>>,
}

impl CatalogCache {
    /// Caches whose entries live `ttl` (zero disables caching).
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            generation: AtomicU64::new(0),
            totals: TtlCache::new(1_000),
            searches: TtlCache::new(2_000),
            categories: TtlCache::new(1),
        }
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Drops every entry (call after any change to the catalog).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// A cached total of live listings for `filter`.
    pub fn total(&self, filter: &CatalogFilter) -> Option<i64> {
        self.totals.get(filter, self.ttl, self.generation())
    }

    /// Remembers a total.
    pub fn store_total(&self, filter: CatalogFilter, total: i64, generation: u64) {
        self.totals.insert(filter, total, generation);
    }

    /// A cached ranked search window.
    pub fn search(&self, key: &SearchKey) -> Option<Arc<Ranked>> {
        self.searches.get(key, self.ttl, self.generation())
    }

    /// Remembers a ranked search window.
    pub fn store_search(&self, key: SearchKey, ranked: Arc<Ranked>, generation: u64) {
        self.searches.insert(key, ranked, generation);
    }

    /// The cached category list.
    pub fn categories(&self) -> Option<Arc<CategoriesResponse>> {
        self.categories.get(&(), self.ttl, self.generation())
    }

    /// Remembers the category list.
    pub fn store_categories(&self, categories: Arc<CategoriesResponse>, generation: u64) {
        self.categories.insert((), categories, generation);
    }

    /// The generation to pass to a `store_*` call: read it *before* querying, so a change
    /// that lands during the query makes the stored entry stale at once.
    pub fn current_generation(&self) -> u64 {
        self.generation()
    }
}
