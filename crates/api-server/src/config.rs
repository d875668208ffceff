//! The server's configuration: one typed struct, built once from defaults, then an
//! optional TOML file, then `AP_`-prefixed environment variables (`__` nests:
//! `AP_DATABASE__URL`). `DATABASE_URL` is honoured when `AP_DATABASE__URL` is not set.

use std::path::PathBuf;
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Every setting of the server.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// HTTP listener.
    pub server: ServerConfig,
    /// Database connection.
    pub database: DatabaseConfig,
    /// Files on disk.
    pub storage: StorageConfig,
    /// Catalog caches.
    pub cache: CacheConfig,
    /// Logging.
    pub log: LogConfig,
    /// Identity providers and sign-in.
    pub auth: AuthConfig,
    /// Request rate limits.
    pub rate_limit: RateLimitConfig,
    /// Payments: the sandbox, or Stripe.
    pub payments: PaymentsConfig,
    /// The package scan.
    pub scan: ScanConfig,
    /// The Prometheus endpoint.
    pub metrics: MetricsConfig,
}

/// Settings of the Prometheus endpoint.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Address of `GET /metrics` (e.g. `127.0.0.1:9091`), apart from the public one; off
    /// when unset.
    pub bind: Option<String>,
}

/// Settings of the package scan.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScanConfig {
    /// Regular expressions that block a package when a line of one of its text files
    /// matches, besides the built-in rules (for a threat found after a release; run
    /// `POST /v1/admin/rescans` to apply them to what is published).
    pub deny_patterns: Vec<String>,
}

/// Which payment gateway takes payments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GatewayKind {
    /// Checkout pages on this server with Pay and Cancel; no money moves.
    Sandbox,
    /// Stripe Checkout and Connect.
    Stripe,
}

/// Payment settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaymentsConfig {
    /// `sandbox` (default) or `stripe`.
    pub gateway: GatewayKind,
    /// Stripe secret API key (`sk_…`).
    pub stripe_secret_key: Option<SecretValue>,
    /// Signing secret of the Stripe webhook endpoint (`whsec_…`).
    pub stripe_webhook_secret: Option<SecretValue>,
    /// Stripe API base URL (tests and proxies).
    pub stripe_api_base: Option<String>,
    /// Origins besides the public URL and loopback that checkouts may return buyers to.
    pub redirect_origins: Vec<String>,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        Self {
            gateway: GatewayKind::Sandbox,
            stripe_secret_key: None,
            stripe_webhook_secret: None,
            stripe_api_base: None,
            redirect_origins: Vec::new(),
        }
    }
}

/// Rate-limit settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Limits on (turn off only for benchmarks).
    pub enabled: bool,
    /// `memory` (one instance) or `redis` (budgets shared by every instance).
    pub backend: RateLimitBackend,
    /// Redis URL for the `redis` backend.
    pub redis_url: String,
    /// Prefix of the Redis keys.
    pub redis_prefix: String,
    /// Milliseconds a check waits for Redis before limiting in memory instead.
    pub redis_timeout_ms: u64,
    /// Public reads per minute and client IP.
    pub public_read_per_minute: u32,
    /// Authenticated reads per minute and user.
    pub authenticated_read_per_minute: u32,
    /// Writes per minute and user (or client IP).
    pub write_per_minute: u32,
    /// Lookups of bearer tokens not seen recently, per minute and client IP.
    pub token_lookups_per_minute: u32,
    /// Requests to `/v1/admin/…` per minute and user.
    pub admin_per_minute: u32,
    /// Reads of signed file links (`/v1/files/…`) per minute and client IP.
    pub files_per_minute: u32,
    /// Proxies (addresses or CIDR networks) whose X-Forwarded-For is believed.
    pub trusted_proxies: Vec<String>,
}

/// Where rate-limit budgets live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RateLimitBackend {
    /// In this process.
    Memory,
    /// In Redis, shared.
    Redis,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            backend: RateLimitBackend::Memory,
            redis_url: "redis://127.0.0.1:6379".to_owned(),
            redis_prefix: "ap:rl:".to_owned(),
            redis_timeout_ms: 100,
            public_read_per_minute: 60,
            authenticated_read_per_minute: 10,
            write_per_minute: 20,
            token_lookups_per_minute: 60,
            admin_per_minute: 120,
            files_per_minute: 600,
            trusted_proxies: Vec::new(),
        }
    }
}

/// HTTP listener settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on.
    pub bind: String,
    /// Worker threads; 0 means one per CPU core.
    pub workers: usize,
    /// Seconds in-flight requests get to finish on shutdown.
    pub shutdown_timeout_secs: u64,
    /// Seconds a request body may take to arrive in full (then 408).
    pub body_timeout_secs: u64,
    /// Serve the benchmark yardsticks under `/_bench/` (for `cargo xtask bench` only;
    /// refused in production mode).
    pub bench_routes: bool,
    /// Absolute URL browsers use to reach this server; default `http://<bind>`.
    pub public_url: Option<String>,
    /// Production mode: refuses to start with development sign-in, the sandbox gateway,
    /// a per-instance link-signing key or the benchmark routes.
    pub production: bool,
}

/// Identity settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Issuer (`iss`) of the external identity provider (Clerk or any OIDC provider).
    pub issuer: Option<String>,
    /// Expected audience (`aud`), when the provider sets one.
    pub audience: Option<String>,
    /// URL of the provider's JWKS.
    pub jwks_url: Option<String>,
    /// Local JWKS file (instead of the URL).
    pub jwks_file: Option<PathBuf>,
    /// Accepted signature algorithms of the provider.
    pub algorithms: Vec<String>,
    /// Seconds of clock skew tolerated on `exp` and `nbf`.
    pub leeway_secs: u64,
    /// The provider's sign-in page, where the login bridge sends browsers not signed in.
    pub sign_in_url: Option<String>,
    /// Development sign-in; default: on when no provider is configured and the server
    /// binds to loopback only (otherwise the server refuses to start without a choice).
    pub dev_sign_in: Option<bool>,
    /// Key for development sessions (at least 32 characters); default: random per start.
    pub dev_signing_key: Option<SecretValue>,
    /// Lifetime of development sessions, in minutes.
    pub dev_session_minutes: u64,
    /// Seconds a CLI token lookup is reused (0 = every request queries the database).
    pub token_cache_secs: u64,
    /// User ids of administrators (as `/v1/auth/me` shows them), besides those granted
    /// the role with `api-server admin grant`.
    pub admins: Vec<String>,
}

/// A configuration secret: never printed.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct SecretValue(String);

impl SecretValue {
    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Serialize for SecretValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("<redacted>")
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            issuer: None,
            audience: None,
            jwks_url: None,
            jwks_file: None,
            algorithms: vec!["RS256".to_owned()],
            leeway_secs: 30,
            sign_in_url: None,
            dev_sign_in: None,
            dev_signing_key: None,
            dev_session_minutes: 15,
            token_cache_secs: 10,
            admins: Vec::new(),
        }
    }
}

/// Database settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://path/file.db` or `postgres://user@host:port/db`.
    pub url: String,
    /// Most pooled connections; 0 = the backend's default (SQLite: two per core the
    /// process may run on; PostgreSQL: 8).
    pub max_connections: u32,
    /// Milliseconds a request waits for a connection before answering 503.
    pub acquire_timeout_ms: u64,
    /// SQLite only: milliseconds a writer waits for the write lock.
    pub busy_timeout_ms: u64,
    /// PostgreSQL only: milliseconds a statement may run before it is cancelled.
    pub statement_timeout_ms: u64,
    /// Milliseconds a unit of work may take (waiting included) before the request is
    /// answered 503 and its connection discarded.
    pub work_timeout_ms: u64,
}

/// Where archives are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    /// Files under `<data_dir>/archives` (one instance, or a shared file system).
    Local,
    /// An S3-compatible bucket (several instances).
    S3,
}

/// File storage settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// Folder for archives (local backend), staged uploads and other files.
    pub data_dir: PathBuf,
    /// Where archives are kept.
    pub backend: StorageBackend,
    /// S3 backend: the bucket.
    pub s3_bucket: Option<String>,
    /// S3 backend: key prefix inside the bucket.
    pub s3_prefix: String,
    /// S3 backend: endpoint of an S3-compatible service (MinIO, R2, …); AWS when unset.
    pub s3_endpoint: Option<String>,
    /// S3 backend: region (else `AWS_REGION`, else `us-east-1`).
    pub s3_region: Option<String>,
    /// Key of download-link signatures, shared by every instance (else a key kept in
    /// `<data_dir>/url-signing.key`, created on first start; required in production).
    pub url_signing_key: Option<SecretValue>,
    /// Seconds a signed download link works.
    pub download_link_secs: u64,
    /// Folder of this instance's search index, emptied and rebuilt from the database at
    /// start (else `<data_dir>/search-index`; instances sharing a data_dir each need one).
    pub search_index_dir: Option<PathBuf>,
}

/// Cache settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Seconds catalog totals, search rankings and category counts are reused (0 = off).
    pub ttl_secs: u64,
}

/// Log settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `tracing` filter, e.g. `info` or `ap_api=debug,info`.
    pub level: String,
    /// `text` or `json`.
    pub format: LogFormat,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".to_owned(),
            workers: 0,
            shutdown_timeout_secs: 30,
            body_timeout_secs: 120,
            bench_routes: false,
            public_url: None,
            production: false,
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: "sqlite://data/agentpowers.db".to_owned(),
            max_connections: 0,
            acquire_timeout_ms: 5_000,
            busy_timeout_ms: 5_000,
            statement_timeout_ms: 30_000,
            work_timeout_ms: 15_000,
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            backend: StorageBackend::Local,
            s3_bucket: None,
            s3_prefix: "archives".to_owned(),
            s3_endpoint: None,
            s3_region: None,
            url_signing_key: None,
            download_link_secs: 300,
            search_index_dir: None,
        }
    }
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self { ttl_secs: 10 }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { level: "info".to_owned(), format: LogFormat::Text }
    }
}

/// Top-level sections, the only `AP_*` variables read (so `AP_TEST_…` and the like are
/// not mistaken for settings).
const SECTIONS: [&str; 10] = [
    "server",
    "database",
    "storage",
    "cache",
    "log",
    "auth",
    "rate_limit",
    "payments",
    "scan",
    "metrics",
];

/// Every setting with its environment variable and meaning, for `--help`.
pub const SETTINGS_HELP: &str = "\
Settings (defaults, then --config FILE as TOML, then environment):
  server.bind                  AP_SERVER__BIND                  address to listen on [127.0.0.1:8080]
  server.workers               AP_SERVER__WORKERS               worker threads, 0 = one per core [0]
  server.shutdown_timeout_secs AP_SERVER__SHUTDOWN_TIMEOUT_SECS grace period on shutdown [30]
  server.body_timeout_secs     AP_SERVER__BODY_TIMEOUT_SECS     a request body must arrive within this, then 408 [120]
  server.bench_routes          AP_SERVER__BENCH_ROUTES          benchmark yardsticks under /_bench/ (not in production) [false]
  server.public_url            AP_PUBLIC_URL or AP_SERVER__PUBLIC_URL  URL clients use to reach the server [http://<bind>]
  server.production            AP_SERVER__PRODUCTION            production mode: no development sign-in [false]
  database.url                 AP_DATABASE__URL or DATABASE_URL sqlite://FILE or postgres://… [sqlite://data/agentpowers.db]
  database.max_connections     AP_DATABASE__MAX_CONNECTIONS     pool size, 0 = SQLite 2 per core, PostgreSQL 8 [0]
  database.acquire_timeout_ms  AP_DATABASE__ACQUIRE_TIMEOUT_MS  wait for a connection, then 503 [5000]
  database.busy_timeout_ms     AP_DATABASE__BUSY_TIMEOUT_MS     SQLite writer lock wait [5000]
  database.statement_timeout_ms AP_DATABASE__STATEMENT_TIMEOUT_MS PostgreSQL statement limit [30000]
  database.work_timeout_ms     AP_DATABASE__WORK_TIMEOUT_MS     a unit of work's deadline, then 503 [15000]
  storage.data_dir             AP_STORAGE__DATA_DIR             folder for archives, staged uploads, keys [data]
  storage.backend              AP_STORAGE__BACKEND              where archives live: local or s3 [local]
  storage.s3_bucket            AP_STORAGE__S3_BUCKET            S3 bucket (credentials from AWS_* variables) [none]
  storage.s3_prefix            AP_STORAGE__S3_PREFIX            key prefix inside the bucket [archives]
  storage.s3_endpoint          AP_STORAGE__S3_ENDPOINT          S3-compatible endpoint (MinIO, R2, …) [AWS]
  storage.s3_region            AP_STORAGE__S3_REGION            S3 region [AWS_REGION, else us-east-1]
  storage.url_signing_key      AP_STORAGE__URL_SIGNING_KEY      download-link key, 32+ chars, same on every instance [kept in data_dir]
  storage.download_link_secs   AP_STORAGE__DOWNLOAD_LINK_SECS   lifetime of a download link [300]
  storage.search_index_dir     AP_STORAGE__SEARCH_INDEX_DIR     this instance's search index, rebuilt at start [data_dir/search-index]
  cache.ttl_secs               AP_CACHE__TTL_SECS               catalog cache lifetime, 0 = off [10]
  log.level                    AP_LOG__LEVEL                    tracing filter [info]
  log.format                   AP_LOG__FORMAT                   text or json [text]
  auth.issuer                  AP_AUTH__ISSUER                  identity provider issuer (Clerk, OIDC) [none]
  auth.audience                AP_AUTH__AUDIENCE                expected aud claim [none]
  auth.jwks_url                AP_AUTH__JWKS_URL                provider JWKS URL [none]
  auth.jwks_file               AP_AUTH__JWKS_FILE               provider JWKS file, instead of the URL [none]
  auth.algorithms              AP_AUTH__ALGORITHMS              accepted algorithms [RS256]
  auth.leeway_secs             AP_AUTH__LEEWAY_SECS             clock skew allowed on exp/nbf [30]
  auth.sign_in_url             AP_AUTH__SIGN_IN_URL             provider sign-in page for the CLI login bridge [none]
  auth.dev_sign_in             AP_AUTH__DEV_SIGN_IN             development sign-in [on when no issuer is set and bind is loopback]
  auth.dev_signing_key         AP_AUTH__DEV_SIGNING_KEY         development session key, 32+ chars [random per start]
  auth.dev_session_minutes     AP_AUTH__DEV_SESSION_MINUTES     development session lifetime [15]
  auth.token_cache_secs        AP_AUTH__TOKEN_CACHE_SECS        reuse of CLI token lookups, 0 = off [10]
  auth.admins                  AP_AUTH__ADMINS                  user ids of administrators (see /v1/auth/me) [none]
  rate_limit.enabled           AP_RATE_LIMIT__ENABLED           request rate limits [true]
  rate_limit.backend           AP_RATE_LIMIT__BACKEND           memory or redis (shared by instances) [memory]
  rate_limit.redis_url         AP_RATE_LIMIT__REDIS_URL         Redis for the redis backend [redis://127.0.0.1:6379]
  rate_limit.redis_prefix      AP_RATE_LIMIT__REDIS_PREFIX      Redis key prefix [ap:rl:]
  rate_limit.redis_timeout_ms  AP_RATE_LIMIT__REDIS_TIMEOUT_MS  wait for Redis, then limit in memory [100]
  rate_limit.public_read_per_minute AP_RATE_LIMIT__PUBLIC_READ_PER_MINUTE reads of public endpoints, per user or IP [60]
  rate_limit.authenticated_read_per_minute AP_RATE_LIMIT__AUTHENTICATED_READ_PER_MINUTE reads of signed-in endpoints, per user [10]
  rate_limit.write_per_minute  AP_RATE_LIMIT__WRITE_PER_MINUTE  writes per user or IP [20]
  rate_limit.token_lookups_per_minute AP_RATE_LIMIT__TOKEN_LOOKUPS_PER_MINUTE lookups of tokens not seen recently, per IP [60]
  rate_limit.files_per_minute  AP_RATE_LIMIT__FILES_PER_MINUTE  signed file link reads, per IP [600]
  rate_limit.admin_per_minute  AP_RATE_LIMIT__ADMIN_PER_MINUTE  administration requests, per user [120]
  rate_limit.trusted_proxies   AP_RATE_LIMIT__TRUSTED_PROXIES   proxies whose X-Forwarded-For counts, e.g. [10.0.0.0/8] [none]
  payments.gateway             AP_PAYMENTS__GATEWAY             sandbox or stripe [sandbox]
  payments.stripe_secret_key   AP_PAYMENTS__STRIPE_SECRET_KEY   Stripe secret API key [none]
  payments.stripe_webhook_secret AP_PAYMENTS__STRIPE_WEBHOOK_SECRET signing secret of the webhook endpoint [none]
  payments.stripe_api_base     AP_PAYMENTS__STRIPE_API_BASE     Stripe API base URL [https://api.stripe.com/]
  payments.redirect_origins    AP_PAYMENTS__REDIRECT_ORIGINS    more origins checkouts may return to, e.g. [https://shop.example] [none]
  scan.deny_patterns           AP_SCAN__DENY_PATTERNS           regular expressions that block a package, besides the built-in rules [none]
  metrics.bind                 AP_METRICS__BIND                 address of GET /metrics (Prometheus), apart from the public one [off]";

/// Why the configuration could not be built.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(#[from] Box<figment::Error>);

impl Config {
    /// Builds the configuration from defaults, an optional TOML file and the environment.
    pub fn load(file: Option<&std::path::Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        if let Ok(url) = std::env::var("DATABASE_URL") {
            figment = figment.merge(Serialized::default("database.url", url));
        }
        if let Ok(url) = std::env::var("AP_PUBLIC_URL") {
            figment = figment.merge(Serialized::default("server.public_url", url));
        }
        figment = figment.merge(Env::prefixed("AP_").split("__").filter(|key| {
            let key = key.as_str().to_ascii_lowercase();
            SECTIONS.iter().any(|s| key == *s || key.starts_with(&format!("{s}.")))
        }));
        figment.extract().map_err(|e| ConfigError(Box::new(e)))
    }

    /// Pool settings for the store.
    pub fn db_config(&self) -> ap_store::DbConfig {
        ap_store::DbConfig {
            url: self.database.url.clone(),
            max_connections: self.database.max_connections,
            acquire_timeout: Duration::from_millis(self.database.acquire_timeout_ms),
            busy_timeout: Duration::from_millis(self.database.busy_timeout_ms),
            statement_timeout: Duration::from_millis(self.database.statement_timeout_ms),
            work_timeout: Duration::from_millis(self.database.work_timeout_ms),
        }
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error.
mod tests {
    use super::*;

    /// Every leaf setting appears in `--help`.
    #[test]
    fn help_lists_every_setting() {
        let value = serde_json::to_value(Config::default()).expect("serialise");
        let sections = value.as_object().expect("object");
        for (section, fields) in sections {
            for field in fields.as_object().expect("section object").keys() {
                let key = format!("{section}.{field}");
                assert!(SETTINGS_HELP.contains(&key), "{key} missing from SETTINGS_HELP");
                let env = format!("AP_{}__{}", section.to_uppercase(), field.to_uppercase());
                assert!(SETTINGS_HELP.contains(&env), "{env} missing from SETTINGS_HELP");
            }
        }
    }

    #[test]
    fn file_then_environment() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "ap.toml",
                "[server]\nbind = \"0.0.0.0:9000\"\n[cache]\nttl_secs = 3\n",
            )?;
            jail.set_env("AP_CACHE__TTL_SECS", "7");
            jail.set_env("AP_TEST_DATABASE_URL", "postgres://ignored");
            jail.set_env("DATABASE_URL", "postgres://from-database-url/db");
            let config = Config::load(Some(std::path::Path::new("ap.toml"))).expect("load");
            assert_eq!(config.server.bind, "0.0.0.0:9000");
            assert_eq!(config.cache.ttl_secs, 7);
            assert_eq!(config.database.url, "postgres://from-database-url/db");
            jail.set_env("AP_DATABASE__URL", "sqlite://x.db");
            let config = Config::load(None).expect("load");
            assert_eq!(config.database.url, "sqlite://x.db");
            Ok(())
        });
    }

    #[test]
    fn unknown_settings_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("ap.toml", "[server]\nbnd = \"typo\"\n")?;
            assert!(Config::load(Some(std::path::Path::new("ap.toml"))).is_err());
            Ok(())
        });
    }
}
