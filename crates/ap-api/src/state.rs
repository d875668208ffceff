//! Shared state handed to every handler.

use std::sync::Arc;
use std::time::Duration;

use ap_auth::session::{DevIssuer, SessionVerifier};
use ap_auth::{Authenticator, Clock};
use ap_ratelimit::Limiter;
use ap_ratelimit::policy::Cidr;
use ap_store::Db;
use ap_store::blobs::BlobStore;

use crate::cache::CatalogCache;
use crate::counters::ListingCounts;
use crate::publishing::Publisher;
use crate::signing::UrlSigner;

/// Settings of the HTTP layer (built by `api-server` from its configuration).
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// How long catalog totals, search rankings and category counts are reused.
    pub cache_ttl: Duration,
    /// Serve the benchmark yardsticks under `/_bench/`.
    pub bench_routes: bool,
    /// Absolute base URL of this server as browsers reach it (no trailing slash).
    pub public_url: String,
    /// Where the bridge sends a browser that is not signed in, when development sign-in
    /// is off (the identity provider's sign-in page).
    pub sign_in_url: Option<String>,
    /// Proxies whose `X-Forwarded-For` names the client (anyone else's is ignored).
    pub trusted_proxies: Vec<Cidr>,
    /// How long a signed download link works.
    pub download_link_ttl: Duration,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            cache_ttl: Duration::from_secs(10),
            bench_routes: false,
            public_url: "http://127.0.0.1:8080".to_owned(),
            sign_in_url: None,
            trusted_proxies: Vec::new(),
            download_link_ttl: Duration::from_secs(300),
        }
    }
}

/// Identity parts of the state.
#[derive(Debug)]
pub struct AuthSetup {
    /// Session-JWT verification (external provider and/or development issuer).
    pub sessions: SessionVerifier,
    /// The development issuer, when development sign-in is on.
    pub dev_issuer: Option<Arc<DevIssuer>>,
    /// The clock of every time comparison.
    pub clock: Arc<dyn Clock>,
    /// How long a CLI token lookup is reused (zero: never).
    pub token_cache_ttl: chrono::Duration,
}

/// Archive storage and download-link signing.
#[derive(Debug, Clone)]
pub struct Files {
    /// Where archives live.
    pub blobs: Arc<dyn BlobStore>,
    /// Signs and checks download links (the key is shared by every instance).
    pub signer: UrlSigner,
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
    auth: Authenticator<Db>,
    dev_issuer: Option<Arc<DevIssuer>>,
    limiter: Option<Arc<dyn Limiter>>,
    publisher: Publisher,
    signer: UrlSigner,
    counts: ListingCounts,
}

impl AppState {
    /// State over an open database; `limiter` is `None` when rate limits are off.
    pub fn new(
        db: Db,
        files: Files,
        config: ApiConfig,
        auth: AuthSetup,
        limiter: Option<Arc<dyn Limiter>>,
    ) -> Self {
        let publisher = Publisher::new(db.clone(), files.blobs);
        let cache = CatalogCache::new(config.cache_ttl);
        let authenticator =
            Authenticator::new(db.clone(), auth.sessions, auth.clock, auth.token_cache_ttl);
        Self {
            inner: Arc::new(Inner {
                db,
                cache,
                config,
                auth: authenticator,
                dev_issuer: auth.dev_issuer,
                limiter,
                publisher,
                signer: files.signer,
                counts: ListingCounts::default(),
            }),
        }
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

    /// Authentication.
    pub fn auth(&self) -> &Authenticator<Db> {
        &self.inner.auth
    }

    /// The rate limiter, when limits are on.
    pub fn limiter(&self) -> Option<&Arc<dyn Limiter>> {
        self.inner.limiter.as_ref()
    }

    /// Publishing (and the archive store).
    pub fn publisher(&self) -> &Publisher {
        &self.inner.publisher
    }

    /// Downloads and views counted but not yet written.
    pub fn counts(&self) -> &ListingCounts {
        &self.inner.counts
    }

    /// Writes the pending download and view counts now (the server does it every second
    /// and when it stops).
    pub async fn flush_counts(&self) -> Result<(), ap_store::StoreError> {
        self.inner.counts.flush(&self.inner.db).await
    }

    /// Download-link signing.
    pub fn signer(&self) -> &UrlSigner {
        &self.inner.signer
    }

    /// The development issuer, when development sign-in is on.
    pub fn dev_issuer(&self) -> Option<&Arc<DevIssuer>> {
        self.inner.dev_issuer.as_ref()
    }
}
