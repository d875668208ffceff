//! Shared state handed to every handler.

use std::sync::Arc;
use std::time::Duration;

use ap_store::Db;

use crate::cache::CatalogCache;

/// Settings of the HTTP layer (built by `api-server` from its configuration).
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// How long catalog totals, search rankings and category counts are reused.
    pub cache_ttl: Duration,
    /// Serve the benchmark yardsticks under `/_bench/`.
    pub bench_routes: bool,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self { cache_ttl: Duration::from_secs(10), bench_routes: false }
    }
}

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    cache: CatalogCache,
    config: ApiConfig,
}

impl AppState {
    /// State over an open database.
    pub fn new(db: Db, config: ApiConfig) -> Self {
        let cache = CatalogCache::new(config.cache_ttl);
        Self { inner: Arc::new(Inner { db, cache, config }) }
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// The catalog caches of this instance.
    pub fn cache(&self) -> &CatalogCache {
        &self.inner.cache
    }

    /// The HTTP-layer settings.
    pub fn config(&self) -> &ApiConfig {
        &self.inner.config
    }
}
