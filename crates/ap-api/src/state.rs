//! Shared state handed to every handler: the marketplace services, authentication and
//! the rate limiter.

use std::sync::Arc;

use ap_auth::session::{DevIssuer, SessionVerifier};
use ap_auth::{Authenticator, Clock};
use ap_market::Market;
use ap_ratelimit::Limiter;
use ap_ratelimit::policy::Cidr;
use ap_store::Db;

use crate::announce::Announcements;

/// Settings of the HTTP layer (built by `api-server` from its configuration).
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Serve the benchmark yardsticks under `/_bench/`.
    pub bench_routes: bool,
    /// Absolute base URL of this server as browsers reach it (no trailing slash).
    pub public_url: String,
    /// Where the bridge sends a browser that is not signed in, when development sign-in
    /// is off (the identity provider's sign-in page).
    pub sign_in_url: Option<String>,
    /// Proxies whose `X-Forwarded-For` names the client (anyone else's is ignored).
    pub trusted_proxies: Vec<Cidr>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            bench_routes: false,
            public_url: "http://127.0.0.1:8080".to_owned(),
            sign_in_url: None,
            trusted_proxies: Vec::new(),
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

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    market: Market,
    config: ApiConfig,
    auth: Authenticator<Db>,
    dev_issuer: Option<Arc<DevIssuer>>,
    limiter: Option<Arc<dyn Limiter>>,
    announcements: Announcements,
    /// `/openapi.json`, serialized once (it depends only on the public URL).
    openapi: actix_web::web::Bytes,
}

impl AppState {
    /// State over the marketplace services and the identity store `db`; `limiter` is
    /// `None` when rate limits are off; `announcements` reach the other instances.
    pub fn new(
        market: Market,
        db: Db,
        config: ApiConfig,
        auth: AuthSetup,
        limiter: Option<Arc<dyn Limiter>>,
        announcements: Announcements,
    ) -> Self {
        let authenticator = Authenticator::new(db, auth.sessions, auth.clock, auth.token_cache_ttl);
        let openapi = crate::openapi::document_bytes(&config.public_url);
        Self {
            inner: Arc::new(Inner {
                market,
                config,
                auth: authenticator,
                dev_issuer: auth.dev_issuer,
                limiter,
                announcements,
                openapi,
            }),
        }
    }

    /// The OpenAPI document as served.
    pub fn openapi(&self) -> &actix_web::web::Bytes {
        &self.inner.openapi
    }

    /// The marketplace services.
    pub fn market(&self) -> &Market {
        &self.inner.market
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

    /// Changes announced to and heard from the other instances.
    pub fn announcements(&self) -> &Announcements {
        &self.inner.announcements
    }

    /// The development issuer, when development sign-in is on.
    pub fn dev_issuer(&self) -> Option<&Arc<DevIssuer>> {
        self.inner.dev_issuer.as_ref()
    }
}
