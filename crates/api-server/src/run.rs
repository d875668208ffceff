//! Wiring: logging, database, state and the HTTP server, for the `serve` and `migrate`
//! subcommands.

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;

use std::sync::Arc;

use anyhow::{Context, bail};
use ap_api::announce::Announcements;
use ap_api::{ApiConfig, AppState, AuthSetup, ServerOptions};
use ap_auth::jwks::{Jwks, JwksSource};
use ap_auth::session::{DevIssuer, ExternalProvider, SessionVerifier};
use ap_auth::{Clock, SystemClock};
use ap_market::blobs::{BlobStore, LocalBlobs};
use ap_market::payments::PaymentGateway;
use ap_market::signing::UrlSigner;
use ap_market::{DenyPatterns, Market, MarketConfig, Outside};
use ap_payments::{SandboxGateway, StripeGateway, StripeSettings};
use ap_ratelimit::memory::MemoryLimiter;
use ap_ratelimit::policy::Cidr;
use ap_ratelimit::redis::RedisLimiter;
use ap_ratelimit::{Limiter, Quotas};
use ap_s3::{S3Blobs, S3Settings};
use ap_store::Db;
use jsonwebtoken::Algorithm;

use crate::config::{Config, GatewayKind, LogFormat, RateLimitBackend, StorageBackend};

/// Installs the global `tracing` subscriber (text or JSON lines on stderr).
pub fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log.level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match config.log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// Opens the database and applies pending migrations.
pub fn open_and_migrate(config: &Config) -> anyhow::Result<Db> {
    let db = Db::open(&config.db_config()).context("opening the database")?;
    let applied = db.migrate().context("applying migrations")?;
    if !applied.is_empty() {
        tracing::info!(?applied, "migrations applied");
    }
    Ok(db)
}

/// `api-server migrate`.
pub fn migrate(config: &Config) -> anyhow::Result<()> {
    open_and_migrate(config).map(drop)
}

/// `api-server admin grant|revoke <email> --reason …`: gives or takes the admin role,
/// recording the change and its reason in the audit log (the only way besides
/// `auth.admins`; never through the API).
pub fn admin(config: &Config, email: &str, reason: &str, grant: bool) -> anyhow::Result<()> {
    let db = open_and_migrate(config)?;
    let market = market(config, db, Arc::new(SystemClock), None)?;
    let admin = market.admin();
    let change = actix_web::rt::System::new().block_on(async {
        if grant { admin.grant(email, reason).await } else { admin.revoke(email, reason).await }
    })?;
    let verb = if grant { "is now an administrator" } else { "is no longer an administrator" };
    match (change.changed, grant) {
        (true, _) => println!("{email} (user {}) {verb}", change.user_id.as_str()),
        (false, true) => println!("{email} is an administrator already; nothing recorded"),
        (false, false) => println!("{email} was not an administrator; nothing recorded"),
    }
    if !grant && admin.configured(change.user_id.as_str()) {
        println!("note: {email} is still an administrator through auth.admins");
    }
    Ok(())
}

/// `api-server backup <file>`: a consistent copy of the SQLite database, taken while
/// the server keeps running (docs/OPERATIONS.md, Backups).
pub fn backup(config: &Config, target: &std::path::Path) -> anyhow::Result<()> {
    let db = Db::open(&config.db_config()).context("opening the database")?;
    if db.backend() != ap_store::Backend::Sqlite {
        bail!("backups of PostgreSQL are taken with pg_dump (docs/OPERATIONS.md, Backups)");
    }
    db.backup_sqlite(target).with_context(|| format!("writing {}", target.display()))?;
    println!("backed up to {}", target.display());
    Ok(())
}

/// The URL browsers use to reach the server, without a trailing slash.
pub fn public_url(config: &Config) -> String {
    config
        .server
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.server.bind))
        .trim_end_matches('/')
        .to_owned()
}

/// Whether every address `bind` resolves to is a loopback address (only this machine
/// can connect).
fn binds_loopback_only(bind: &str) -> bool {
    use std::net::ToSocketAddrs;
    bind.to_socket_addrs().is_ok_and(|addresses| {
        let addresses: Vec<_> = addresses.collect();
        !addresses.is_empty() && addresses.iter().all(|a| a.ip().is_loopback())
    })
}

/// Session verification from the `auth` settings. Development sign-in is on when
/// configured so, or by default when no provider is configured and the server listens
/// on loopback only; with neither a provider nor that setting, a server reachable from
/// other machines refuses to start. Production mode refuses development sign-in.
pub fn auth_setup(config: &Config, public_url: &str) -> anyhow::Result<AuthSetup> {
    let auth = &config.auth;
    let external = match &auth.issuer {
        None => None,
        Some(issuer) => {
            let jwks = match (&auth.jwks_url, &auth.jwks_file) {
                (Some(url), None) => JwksSource::Url(url.clone()),
                (None, Some(file)) => JwksSource::File(file.clone()),
                _ => bail!("auth.issuer needs exactly one of auth.jwks_url and auth.jwks_file"),
            };
            let algorithms = auth
                .algorithms
                .iter()
                .map(|name| match name.to_ascii_uppercase().as_str() {
                    "RS256" => Ok(Algorithm::RS256),
                    "RS384" => Ok(Algorithm::RS384),
                    "RS512" => Ok(Algorithm::RS512),
                    "PS256" => Ok(Algorithm::PS256),
                    "ES256" => Ok(Algorithm::ES256),
                    "ES384" => Ok(Algorithm::ES384),
                    "EDDSA" => Ok(Algorithm::EdDSA),
                    other => Err(anyhow::anyhow!(
                        "auth.algorithms: {other} is not an accepted asymmetric algorithm"
                    )),
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            Some(ExternalProvider {
                issuer: issuer.clone(),
                audience: auth.audience.clone(),
                algorithms,
                jwks: Jwks::new(jwks),
            })
        }
    };
    let dev_on = match auth.dev_sign_in {
        Some(on) => on,
        None if external.is_some() => false,
        None if binds_loopback_only(&config.server.bind) => true,
        None => bail!(
            "no identity provider is configured and the server listens on {} beyond this \
             machine, where development sign-in would let anyone sign in as anyone: set \
             auth.issuer (AP_AUTH__ISSUER) for real sign-in, or auth.dev_sign_in \
             (AP_AUTH__DEV_SIGN_IN) to true to accept that, or false to serve without sign-in",
            config.server.bind
        ),
    };
    if dev_on && config.server.production {
        bail!(
            "development sign-in is on in production mode: configure an identity provider \
             (auth.issuer) or set auth.dev_sign_in = false"
        );
    }
    let dev_issuer = if dev_on {
        tracing::warn!(
            "development sign-in is ON: anyone who reaches this server can sign in as anyone"
        );
        let key = match &auth.dev_signing_key {
            Some(key) if key.expose().len() >= 32 => key.expose().as_bytes().to_vec(),
            Some(_) => bail!("auth.dev_signing_key must have at least 32 characters"),
            None => rand::random::<[u8; 32]>().to_vec(),
        };
        let lifetime = chrono::Duration::minutes(auth.dev_session_minutes.max(1) as i64);
        Some(Arc::new(DevIssuer::new(format!("{public_url}/dev-sign-in"), key, lifetime)))
    } else {
        None
    };
    let sessions = SessionVerifier::new(
        external,
        dev_issuer.clone(),
        chrono::Duration::seconds(auth.leeway_secs as i64),
    );
    Ok(AuthSetup {
        sessions,
        dev_issuer,
        clock: Arc::new(SystemClock),
        token_cache_ttl: chrono::Duration::seconds(auth.token_cache_secs as i64),
    })
}

/// The marketplace services over `db`, wired to the configured archive store,
/// download-link signer and payment gateway, with time from `clock` and the search index
/// in `search_dir` (`None`: in memory, for tools that never search) (used by `serve`
/// and by `cargo xtask`).
pub fn market(
    config: &Config,
    db: Db,
    clock: Arc<dyn Clock>,
    search_dir: Option<PathBuf>,
) -> anyhow::Result<Market> {
    let settings = MarketConfig {
        cache_ttl: Duration::from_secs(config.cache.ttl_secs),
        public_url: public_url(config),
        download_link_ttl: Duration::from_secs(config.storage.download_link_secs.max(1)),
        extra_redirect_origins: config.payments.redirect_origins.clone(),
        search_dir,
        admins: config.auth.admins.clone(),
        deny_patterns: DenyPatterns::new(&config.scan.deny_patterns)
            .context("scan.deny_patterns: not a regular expression")?,
    };
    let signer = UrlSigner::new(signing_key(config)?);
    let blobs = blob_store(config)?;
    let gateway = gateway(config)?;
    Ok(Market::new(db, Outside { blobs, signer, clock, gateway }, settings)?)
}

/// The configured archive store: a folder under `data_dir`, or an S3-compatible bucket
/// that must answer before the server starts (shared with `xtask seed`).
pub fn blob_store(config: &Config) -> anyhow::Result<Arc<dyn BlobStore>> {
    let storage = &config.storage;
    let archives = storage.data_dir.join("archives");
    match storage.backend {
        StorageBackend::Local => Ok(Arc::new(LocalBlobs::new(archives))),
        StorageBackend::S3 => {
            let Some(bucket) = storage.s3_bucket.clone() else {
                bail!("storage.backend = s3 needs storage.s3_bucket")
            };
            let store = S3Blobs::new(S3Settings {
                bucket,
                prefix: storage.s3_prefix.clone(),
                endpoint: storage.s3_endpoint.clone(),
                region: storage.s3_region.clone(),
                staging_dir: archives.join("tmp"),
            })?;
            store.probe().context("storage: the S3 bucket does not answer")?;
            Ok(Arc::new(store))
        }
    }
}

/// The configured payment gateway: Stripe with its keys, or the sandbox (refused in
/// production, where it would hand out paid listings for nothing).
fn gateway(config: &Config) -> anyhow::Result<Arc<dyn PaymentGateway>> {
    let payments = &config.payments;
    match payments.gateway {
        GatewayKind::Sandbox if config.server.production => {
            bail!("payments.gateway = sandbox is refused in production mode: configure Stripe")
        }
        GatewayKind::Sandbox => {
            tracing::warn!("payments use the sandbox: checkouts complete without money");
            Ok(Arc::new(SandboxGateway::new(public_url(config))))
        }
        GatewayKind::Stripe => {
            let Some(key) = &payments.stripe_secret_key else {
                bail!("payments.gateway = stripe needs payments.stripe_secret_key")
            };
            if payments.stripe_webhook_secret.is_none() {
                tracing::warn!("no payments.stripe_webhook_secret: every webhook is refused");
            }
            let settings = StripeSettings {
                secret_key: key.expose().to_owned().into(),
                webhook_secret: payments
                    .stripe_webhook_secret
                    .as_ref()
                    .map(|s| s.expose().to_owned().into()),
                api_base: payments.stripe_api_base.clone(),
                timeout: Duration::from_secs(20),
            };
            Ok(Arc::new(StripeGateway::new(settings).map_err(|e| anyhow::anyhow!("{e}"))?))
        }
    }
}

/// The download-link signing key: the configured one, else one kept in the data folder
/// (created on first start; production needs the configured one, shared by every
/// instance).
fn signing_key(config: &Config) -> anyhow::Result<Vec<u8>> {
    let storage = &config.storage;
    let key = match &storage.url_signing_key {
        Some(key) if key.expose().len() >= 32 => key.expose().as_bytes().to_vec(),
        Some(_) => bail!("storage.url_signing_key must have at least 32 characters"),
        None if config.server.production => {
            bail!(
                "storage.url_signing_key is required in production mode (the same on every instance)"
            )
        }
        None => local_signing_key(&storage.data_dir.join("url-signing.key"))?,
    };
    Ok(key)
}

/// The signing key kept in `path` (32 random bytes, hex, owner-readable only).
fn local_signing_key(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    match std::fs::read_to_string(path) {
        Ok(text) if text.trim().len() >= 64 => return Ok(text.trim().as_bytes().to_vec()),
        Ok(_) => bail!(
            "{} holds no usable key (64 hex characters expected): delete it to make a new one",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let key = hex::encode(rand::random::<[u8; 32]>());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| format!("creating {}", path.display()))?;
    std::io::Write::write_all(&mut file, key.as_bytes())?;
    file.sync_all()?;
    Ok(key.into_bytes())
}

/// Changes announced between instances: over the rate limiter's Redis when budgets are
/// shared there (several instances), else none.
fn announcements(config: &Config) -> Announcements {
    let rl = &config.rate_limit;
    match rl.backend {
        RateLimitBackend::Redis => Announcements::redis(&rl.redis_url, &rl.redis_prefix),
        RateLimitBackend::Memory => Announcements::off(),
    }
}

/// The configured rate limiter (`None` when limits are off).
async fn limiter(
    config: &Config,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Option<Arc<dyn Limiter>>> {
    let rl = &config.rate_limit;
    if !rl.enabled {
        tracing::warn!("rate limits are OFF");
        return Ok(None);
    }
    let quotas = Quotas {
        public_read: rl.public_read_per_minute,
        authenticated_read: rl.authenticated_read_per_minute,
        write: rl.write_per_minute,
        token_lookup: rl.token_lookups_per_minute,
        files: rl.files_per_minute,
        admin: rl.admin_per_minute,
        period: Duration::from_secs(60),
    };
    Ok(Some(match rl.backend {
        RateLimitBackend::Memory => Arc::new(MemoryLimiter::new(quotas, clock)),
        RateLimitBackend::Redis => {
            let timeout = Duration::from_millis(rl.redis_timeout_ms.max(1));
            let limiter =
                RedisLimiter::connect(&rl.redis_url, &rl.redis_prefix, quotas, clock, timeout)
                    .await
                    .map_err(|e| anyhow::anyhow!("rate_limit.redis_url: {e}"))?;
            Arc::new(limiter)
        }
    }))
}

/// `api-server serve`: migrates, then serves until SIGINT/SIGTERM.
pub fn serve(config: &Config) -> anyhow::Result<()> {
    if config.server.bench_routes && config.server.production {
        bail!("server.bench_routes (AP_SERVER__BENCH_ROUTES) is refused in production mode");
    }
    let public_url = public_url(config);
    let auth = auth_setup(config, &public_url)?;
    let db = open_and_migrate(config)?;
    let trusted_proxies = config
        .rate_limit
        .trusted_proxies
        .iter()
        .map(|p| {
            Cidr::parse(p).with_context(|| format!("rate_limit.trusted_proxies: bad entry {p}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let api = ApiConfig {
        bench_routes: config.server.bench_routes,
        public_url,
        sign_in_url: config.auth.sign_in_url.clone(),
        trusted_proxies,
    };
    let search_dir = (config.storage.search_index_dir.clone())
        .unwrap_or_else(|| config.storage.data_dir.join("search-index"));
    let market = market(config, db.clone(), Arc::clone(&auth.clock), Some(search_dir))?;
    let listener = TcpListener::bind(&config.server.bind)
        .with_context(|| format!("binding {}", config.server.bind))?;
    let workers = match config.server.workers {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let options = ServerOptions {
        workers,
        shutdown_timeout_secs: config.server.shutdown_timeout_secs,
        body_timeout: Duration::from_secs(config.server.body_timeout_secs.max(1)),
        follow_interval: ap_market::indexer::FOLLOW_INTERVAL,
    };
    let clock = Arc::clone(&auth.clock);
    let metrics_bind = config.metrics.bind.clone();
    actix_web::rt::System::new().block_on(async move {
        let limiter = limiter(config, clock).await?;
        let backend = db.backend();
        let started = std::time::Instant::now();
        market.follow_catalog().await.context("building the search index")?;
        tracing::info!(
            listings = market.indexed_listings(),
            ms = started.elapsed().as_millis() as u64,
            "search index built"
        );
        let started = std::time::Instant::now();
        match market.build_documents(true).await {
            Ok(settled) => tracing::info!(
                settled,
                ms = started.elapsed().as_millis() as u64,
                "due listing documents built"
            ),
            // Details are answered from the join meanwhile; the follow retries.
            Err(error) => tracing::warn!(%error, "listing documents not built yet"),
        }
        // What building the index allocated and freed goes back to the system now, and
        // what requests free from now on every few seconds.
        crate::memory::trim();
        crate::memory::spawn_trimmer().context("starting the memory trimmer")?;
        let state = AppState::new(market.clone(), db, api, auth, limiter, announcements(config));
        if let Some(bind) = &metrics_bind {
            let listener =
                TcpListener::bind(bind).with_context(|| format!("binding metrics.bind {bind}"))?;
            tracing::info!(address = %listener.local_addr()?, "metrics at /metrics");
            actix_web::rt::spawn(ap_api::metrics::server(state.clone(), listener)?);
        }
        let address = listener.local_addr()?;
        tracing::info!(%address, workers, ?backend, "serving");
        ap_api::server(state, listener, &options)?.await?;
        if let Err(error) = market.flush_counts().await {
            tracing::error!(%error, "download and view counts of the last second were not written");
        }
        anyhow::Ok(())
    })?;
    tracing::info!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_signing_key_is_made_once_and_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keys/url-signing.key");
        let first = local_signing_key(&path).expect("created");
        assert_eq!(first.len(), 64);
        assert_eq!(local_signing_key(&path).expect("read back"), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("metadata").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "short").expect("truncate");
        assert!(local_signing_key(&path).is_err(), "a damaged key file is refused");
    }

    #[test]
    fn the_admin_command_grants_and_revokes_by_email() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = Config::default();
        config.database.url = format!("sqlite://{}", dir.path().join("admin.db").display());
        config.storage.data_dir = dir.path().join("data");
        let db = open_and_migrate(&config).expect("database");
        let now = chrono::Utc::now().naive_utc();
        let user = ap_store::models::NewUser::new(
            "test",
            "ops",
            Some("ops@example.com".to_owned()),
            None,
            now,
        );
        db.run_blocking(|c| ap_store::publish::insert_user(c, &user)).expect("user");
        assert!(admin(&config, "nobody@example.com", "on call", true).is_err(), "unknown");
        assert!(admin(&config, "ops@example.com", " ", true).is_err(), "a reason is required");
        admin(&config, "Ops@Example.com", "on call", true).expect("grant");
        let is_admin = |db: &Db| {
            db.run_blocking(|c| ap_store::admin::has_role(c, user.id.as_str(), "admin"))
                .expect("role")
        };
        assert!(is_admin(&db));
        admin(&config, "ops@example.com", "rotation ended", false).expect("revoke");
        assert!(!is_admin(&db));
        let (entries, total) =
            db.run_blocking(|c| ap_store::admin::audit_page(c, 10, 0)).expect("audit");
        assert_eq!(total, 2);
        assert_eq!(entries[0].action, "role.revoke");
        assert_eq!(entries[0].reason, "rotation ended");
        assert_eq!(entries[0].actor, "command-line");
    }

    #[test]
    fn a_backup_is_a_working_copy_and_never_overwrites() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = Config::default();
        config.database.url = format!("sqlite://{}", dir.path().join("live.db").display());
        let db = open_and_migrate(&config).expect("database");
        let now = chrono::Utc::now().naive_utc();
        let user = ap_store::models::NewUser::new("test", "kept", None, None, now);
        db.run_blocking(|c| ap_store::publish::insert_user(c, &user)).expect("user");
        let target = dir.path().join("copy.db");
        backup(&config, &target).expect("backup");
        assert!(backup(&config, &target).is_err(), "an existing file is never overwritten");
        let copy = Db::open(&ap_store::DbConfig::new(format!("sqlite://{}", target.display())))
            .expect("the copy opens");
        let found = copy.run_blocking(|c| ap_store::users::by_id(c, user.id.as_str()));
        assert_eq!(found.expect("the user is in the copy").identity_subject, "kept");
        assert!(copy.migrate().expect("migrations").is_empty(), "the copy is fully migrated");
    }

    fn bound(bind: &str, dev_sign_in: Option<bool>) -> Config {
        let mut config = Config::default();
        config.server.bind = bind.to_owned();
        config.auth.dev_sign_in = dev_sign_in;
        config
    }

    fn dev_sign_in_on(config: &Config) -> anyhow::Result<bool> {
        Ok(auth_setup(config, "http://example.test")?.dev_issuer.is_some())
    }

    #[test]
    fn development_sign_in_is_on_by_default_only_on_loopback() {
        for bind in ["127.0.0.1:8080", "[::1]:8080", "localhost:8080"] {
            assert!(dev_sign_in_on(&bound(bind, None)).expect(bind), "{bind}");
        }
        for bind in ["0.0.0.0:8080", "[::]:8080", "192.0.2.10:8080"] {
            let error = dev_sign_in_on(&bound(bind, None)).expect_err(bind).to_string();
            assert!(error.contains("AP_AUTH__ISSUER"), "{error}");
            assert!(error.contains("AP_AUTH__DEV_SIGN_IN"), "{error}");
        }
        assert!(dev_sign_in_on(&bound("0.0.0.0:8080", Some(true))).expect("explicitly on"));
        assert!(!dev_sign_in_on(&bound("0.0.0.0:8080", Some(false))).expect("explicitly off"));
        assert!(!dev_sign_in_on(&bound("127.0.0.1:8080", Some(false))).expect("off"));
        let mut production = bound("127.0.0.1:8080", None);
        production.server.production = true;
        assert!(dev_sign_in_on(&production).is_err(), "never in production");
    }

    #[test]
    fn benchmark_routes_are_refused_in_production() {
        let mut config = bound("127.0.0.1:0", Some(false));
        config.server.production = true;
        config.server.bench_routes = true;
        let error = serve(&config).expect_err("refused").to_string();
        assert!(error.contains("bench_routes"), "{error}");
    }
}
