//! `TestApp`: a running server over a throw-away database, plus data fixtures.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, web};
use ap_api::announce::Announcements;
use ap_api::{ApiConfig, AppState, AuthSetup, ServerOptions};
use ap_auth::ManualClock;
use ap_auth::jwks::{Jwks, JwksSource};
use ap_auth::session::{DevIssuer, ExternalProvider, SessionVerifier};
use ap_market::blobs::{BlobStore, LocalBlobs};
use ap_market::payments::PaymentGateway;
use ap_market::signing::UrlSigner;
use ap_market::{DenyPatterns, Market, MarketConfig, Outside};
use ap_payments::testing::FakeStripe;
use ap_payments::{SandboxGateway, StripeGateway, StripeSettings};
use ap_store::models::{NewListing, NewListingVersion, NewUser};
use ap_store::testing::TestDatabase;
use ap_store::{Db, publish, write_tx};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{NaiveDateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::traits::PublicKeyParts;
use serde_json::Value;

/// Runs each named story (an `async fn(TestApp)`) once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! both_backends {
    ($($story:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[actix_web::test]
                async fn $story() {
                    super::$story($crate::support::TestApp::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[actix_web::test]
                async fn $story() {
                    if let Some(app) = $crate::support::TestApp::postgres().await {
                        super::$story(app).await;
                    }
                }
            )*
        }
    };
}

/// The environment variable naming the Redis server for tests.
pub const REDIS_ENV: &str = "AP_TEST_REDIS_URL";

/// Where a rate-limited test server keeps its budgets.
pub enum Limits {
    /// In memory.
    Memory,
    /// In Redis at `url` (default: `AP_TEST_REDIS_URL`), under a key prefix.
    Redis {
        /// Server URL; `None` = from the environment.
        url: Option<String>,
        /// Key prefix (unique per test, so tests never share budgets).
        prefix: String,
    },
}

impl Limits {
    /// Redis from the environment under a fresh prefix.
    pub fn redis() -> Limits {
        Limits::Redis { url: None, prefix: format!("ap:test:{}:", uuid::Uuid::new_v4().simple()) }
    }
}

/// A Redis rate limiter at `url` under `prefix` (default quotas); an unreachable Redis
/// fails the test.
async fn redis_limiter(
    url: &str,
    prefix: &str,
    clock: &ManualClock,
) -> Arc<dyn ap_ratelimit::Limiter> {
    Arc::new(
        ap_ratelimit::redis::RedisLimiter::connect(
            url,
            prefix,
            ap_ratelimit::Quotas::default(),
            Arc::new(clock.clone()),
            Duration::from_millis(200),
        )
        .await
        .unwrap_or_else(|e| panic!("Redis at {url} is unreachable: {e}")),
    )
}

/// The external identity provider of every test server.
pub const ISSUER: &str = "https://id.example.test";
/// Its audience.
pub const AUDIENCE: &str = "agentpowers-test";
/// Secret of the development issuer (tests sign sessions with it directly).
pub const DEV_SECRET: &[u8] = b"test development signing key, 32+ bytes long";

/// An RSA key of the test identity provider.
pub struct TestKey {
    /// Key id.
    pub kid: String,
    /// Signing key.
    pub encoding: EncodingKey,
    /// The public key as PEM (for the algorithm-confusion test).
    pub public_pem: String,
    /// The JWK of its public half.
    pub jwk: serde_json::Value,
}

fn rsa_key(kid: &str) -> TestKey {
    let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).expect("RSA key");
    let der = key.to_pkcs1_der().expect("DER");
    let public = key.to_public_key();
    TestKey {
        kid: kid.to_owned(),
        encoding: EncodingKey::from_rsa_der(der.as_bytes()),
        public_pem: public.to_pkcs1_pem(rsa::pkcs1::LineEnding::LF).expect("PEM"),
        jwk: serde_json::json!({
            "kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
            "n": URL_SAFE_NO_PAD.encode(public.n_bytes()),
            "e": URL_SAFE_NO_PAD.encode(public.e_bytes()),
        }),
    }
}

/// Two provider keys, generated once per test run: `k1` is published from the start,
/// `k2` only after a rotation.
pub fn keys() -> &'static (TestKey, TestKey) {
    static KEYS: OnceLock<(TestKey, TestKey)> = OnceLock::new();
    KEYS.get_or_init(|| (rsa_key("k1"), rsa_key("k2")))
}

/// A local JWKS endpoint that counts its fetches.
pub struct JwksServer {
    /// Its URL.
    pub url: String,
    /// Fetches so far.
    pub fetches: Arc<AtomicUsize>,
    /// The published key set.
    pub keys: Arc<RwLock<Vec<serde_json::Value>>>,
    handle: ServerHandle,
}

impl JwksServer {
    fn start() -> JwksServer {
        let fetches = Arc::new(AtomicUsize::new(0));
        let keys = Arc::new(RwLock::new(vec![keys().0.jwk.clone()]));
        let (f, k) = (Arc::clone(&fetches), Arc::clone(&keys));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/jwks.json", listener.local_addr().expect("address"));
        let server = HttpServer::new(move || {
            let (f, k) = (Arc::clone(&f), Arc::clone(&k));
            App::new().route(
                "/jwks.json",
                web::get().to(move || {
                    f.fetch_add(1, Ordering::SeqCst);
                    let body = serde_json::json!({"keys": *k.read().expect("keys")});
                    async move { HttpResponse::Ok().json(body) }
                }),
            )
        })
        .workers(1)
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        JwksServer { url, fetches, keys, handle }
    }

    /// Publishes the rotated key `k2` too.
    pub fn rotate(&self) {
        self.keys.write().expect("keys").push(keys().1.jwk.clone());
    }

    /// Fetches so far.
    pub fn fetch_count(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

/// The user id every test server's configuration makes an administrator
/// ([`TestApp::configured_admin`] signs in as it).
pub const CONFIGURED_ADMIN: &str = "00000000-0000-7000-8000-0000000ad0a1";

/// How long a test server waits for a request body to arrive in full.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(3);

/// The webhook signing secret of test servers.
pub const WEBHOOK_SECRET: &str = "whsec_test_secret";

/// Which payment gateway a test server uses.
enum Payments {
    /// Stripe's client against a fake Stripe started for the test.
    Stripe,
    /// The sandbox.
    Sandbox,
}

/// A running server and its database.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// HTTP client (no redirects followed, no cookies kept).
    pub client: reqwest::Client,
    /// The application state the server uses.
    pub state: AppState,
    /// The server's clock.
    pub clock: ManualClock,
    /// The identity provider's key endpoint.
    pub jwks: JwksServer,
    /// The development issuer the server trusts.
    pub dev: Arc<DevIssuer>,
    /// The fake Stripe the server's gateway talks to (`None` with the sandbox gateway).
    pub stripe: Option<FakeStripe>,
    handle: ServerHandle,
    database: TestDatabase,
    /// The database `database` is a second handle on, when it is one (dropped last).
    origin: Option<TestDatabase>,
    files: tempfile::TempDir,
}

/// What a server instance may share with another, and its scan rules.
#[derive(Default)]
struct Shared {
    /// Its search index folder (default: its own temporary one).
    search_dir: Option<std::path::PathBuf>,
    /// Its archive folder (default: its own temporary one).
    archives: Option<std::path::PathBuf>,
    /// The operator's scan patterns.
    deny_patterns: DenyPatterns,
    /// Its archive store, when not a folder.
    blobs: Option<Arc<dyn BlobStore>>,
    /// Its announcements (default: off).
    announcements: Option<Announcements>,
    /// How often it follows the change log unprompted (default: as in production).
    follow_interval: Option<Duration>,
}

/// One instance of a cluster: the Redis it shares budgets and announcements through, the
/// key prefix of the cluster, and its archive store.
pub struct Node {
    /// `redis://…` of the cluster's Redis.
    pub redis_url: String,
    /// Redis key and channel prefix of the cluster.
    pub prefix: String,
    /// The shared archive store, as this instance sees it.
    pub blobs: Arc<dyn BlobStore>,
}

/// How often a cluster instance follows the change log without an announcement: never,
/// within a test, so that what it learns it learns from the announcements.
const CLUSTER_FOLLOW_INTERVAL: Duration = Duration::from_secs(3600);

impl TestApp {
    /// A server over a temporary SQLite database.
    pub async fn sqlite() -> TestApp {
        Self::start(TestDatabase::sqlite())
    }

    /// A server over a fresh PostgreSQL database, when `AP_TEST_DATABASE_URL` is set.
    pub async fn postgres() -> Option<TestApp> {
        TestDatabase::postgres().map(Self::start)
    }

    fn start(database: TestDatabase) -> TestApp {
        let clock = ManualClock::new(chrono::Utc::now());
        Self::start_with(database, clock, None, Vec::new(), Payments::Stripe, Shared::default())
    }

    /// A server over `handle`, a second handle on `origin` (e.g. one that reaches it
    /// through a proxy); `origin` lives as long as the server.
    pub fn on(handle: TestDatabase, origin: TestDatabase) -> TestApp {
        let mut app = Self::start(handle);
        app.origin = Some(origin);
        app
    }

    /// Another server instance over this one's database, with its own caches and search
    /// index (in `search_dir`, else in its own temporary folder). `self` must outlive it.
    pub fn beside(&self, search_dir: Option<std::path::PathBuf>) -> TestApp {
        let clock = ManualClock::new(ap_auth::Clock::now(&self.clock));
        Self::start_with(
            self.database.attach(),
            clock,
            None,
            Vec::new(),
            Payments::Stripe,
            Shared { search_dir, ..Shared::default() },
        )
    }

    /// Another server instance over this one's database and archives whose scan also
    /// runs the operator's `deny_patterns` (the scan rules changed). `self` must outlive
    /// it.
    pub fn beside_with_rules(&self, deny_patterns: &[&str]) -> TestApp {
        let clock = ManualClock::new(ap_auth::Clock::now(&self.clock));
        let patterns: Vec<String> = deny_patterns.iter().map(|p| (*p).to_owned()).collect();
        Self::start_with(
            self.database.attach(),
            clock,
            None,
            Vec::new(),
            Payments::Stripe,
            Shared {
                archives: Some(self.files.path().join("archives")),
                deny_patterns: DenyPatterns::new(&patterns).expect("patterns"),
                ..Shared::default()
            },
        )
    }

    /// A server over a temporary SQLite database whose payments go through the sandbox
    /// gateway (checkout pages on the server itself).
    pub async fn sandbox() -> TestApp {
        Self::sandbox_on(TestDatabase::sqlite())
    }

    /// The same over PostgreSQL, when `AP_TEST_DATABASE_URL` is set.
    pub async fn sandbox_postgres() -> Option<TestApp> {
        TestDatabase::postgres().map(Self::sandbox_on)
    }

    fn sandbox_on(database: TestDatabase) -> TestApp {
        let clock = ManualClock::new(chrono::Utc::now());
        Self::start_with(database, clock, None, Vec::new(), Payments::Sandbox, Shared::default())
    }

    /// A server over SQLite whose requests are rate-limited by `limits` (the default
    /// quotas, measured by the app's clock); `trusted` proxies' X-Forwarded-For counts.
    pub async fn with_limits(limits: Limits, trusted: &[&str]) -> Option<TestApp> {
        Self::with_limits_on(TestDatabase::sqlite(), limits, trusted).await
    }

    /// The same over a given database.
    pub async fn with_limits_on(
        database: TestDatabase,
        limits: Limits,
        trusted: &[&str],
    ) -> Option<TestApp> {
        let trusted =
            trusted.iter().map(|t| ap_ratelimit::policy::Cidr::parse(t).expect("CIDR")).collect();
        let clock = ManualClock::new(chrono::Utc::now());
        let quotas = ap_ratelimit::Quotas::default();
        let limiter: Arc<dyn ap_ratelimit::Limiter> = match limits {
            Limits::Memory => {
                Arc::new(ap_ratelimit::memory::MemoryLimiter::new(quotas, Arc::new(clock.clone())))
            }
            Limits::Redis { url, prefix } => {
                let url = match url {
                    Some(url) => url,
                    None => std::env::var(REDIS_ENV).ok().filter(|u| !u.is_empty())?,
                };
                redis_limiter(&url, &prefix, &clock).await
            }
        };
        Some(Self::start_with(
            database,
            clock,
            Some(limiter),
            trusted,
            Payments::Stripe,
            Shared::default(),
        ))
    }

    /// The first instance of a cluster over a fresh PostgreSQL database (`None` when
    /// `AP_TEST_DATABASE_URL` is unset): budgets and announcements in the node's Redis,
    /// archives in its store, following the change log only when told to.
    pub async fn first_in(node: Node) -> Option<TestApp> {
        let database = TestDatabase::postgres()?;
        Some(Self::in_cluster(database, ManualClock::new(chrono::Utc::now()), node).await)
    }

    /// Another instance of this one's cluster, over the same database, at the same time.
    pub async fn next_in(&self, node: Node) -> TestApp {
        let clock = ManualClock::new(ap_auth::Clock::now(&self.clock));
        Self::in_cluster(self.database.attach(), clock, node).await
    }

    async fn in_cluster(database: TestDatabase, clock: ManualClock, node: Node) -> TestApp {
        let limiter = redis_limiter(&node.redis_url, &node.prefix, &clock).await;
        let shared = Shared {
            blobs: Some(node.blobs),
            announcements: Some(Announcements::redis(&node.redis_url, &node.prefix)),
            follow_interval: Some(CLUSTER_FOLLOW_INTERVAL),
            ..Shared::default()
        };
        Self::start_with(database, clock, Some(limiter), Vec::new(), Payments::Stripe, shared)
    }

    fn start_with(
        database: TestDatabase,
        clock: ManualClock,
        limiter: Option<Arc<dyn ap_ratelimit::Limiter>>,
        trusted_proxies: Vec<ap_ratelimit::policy::Cidr>,
        payments: Payments,
        shared: Shared,
    ) -> TestApp {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let jwks = JwksServer::start();
        let dev = Arc::new(DevIssuer::new(
            format!("{base}/dev-sign-in"),
            DEV_SECRET.to_vec(),
            chrono::Duration::minutes(15),
        ));
        let external = ExternalProvider {
            issuer: ISSUER.to_owned(),
            audience: Some(AUDIENCE.to_owned()),
            algorithms: vec![Algorithm::RS256],
            jwks: Jwks::new(JwksSource::Url(jwks.url.clone())),
        };
        let auth = AuthSetup {
            sessions: SessionVerifier::new(
                Some(external),
                Some(Arc::clone(&dev)),
                chrono::Duration::seconds(30),
            ),
            dev_issuer: Some(Arc::clone(&dev)),
            clock: Arc::new(clock.clone()),
            token_cache_ttl: chrono::Duration::seconds(10),
        };
        let config = ApiConfig {
            bench_routes: false,
            public_url: base.clone(),
            sign_in_url: None,
            trusted_proxies,
        };
        let files_dir = tempfile::tempdir().expect("archive folder");
        let (gateway, stripe): (Arc<dyn PaymentGateway>, _) = match payments {
            Payments::Sandbox => (Arc::new(SandboxGateway::new(base.clone())), None),
            Payments::Stripe => {
                let fake = FakeStripe::start();
                let gateway = StripeGateway::new(StripeSettings {
                    secret_key: "sk_test_fake".to_owned().into(),
                    webhook_secret: Some(WEBHOOK_SECRET.to_owned().into()),
                    api_base: Some(fake.url.clone()),
                    timeout: Duration::from_secs(5),
                })
                .expect("gateway");
                (Arc::new(gateway), Some(fake))
            }
        };
        let blobs = shared.blobs.unwrap_or_else(|| {
            Arc::new(LocalBlobs::new(
                shared.archives.unwrap_or_else(|| files_dir.path().join("archives")),
            ))
        });
        let outside = Outside {
            blobs,
            signer: UrlSigner::new(b"test signing key of at least 32 bytes".to_vec()),
            clock: Arc::new(clock.clone()),
            gateway,
        };
        let settings = MarketConfig {
            cache_ttl: Duration::from_secs(60),
            public_url: base.clone(),
            download_link_ttl: Duration::from_secs(300),
            extra_redirect_origins: Vec::new(),
            search_dir: Some(
                shared.search_dir.unwrap_or_else(|| files_dir.path().join("search-index")),
            ),
            admins: vec![CONFIGURED_ADMIN.to_owned()],
            deny_patterns: shared.deny_patterns,
        };
        let market = Market::new(database.db.clone(), outside, settings).expect("search index");
        let announcements = shared.announcements.unwrap_or_else(Announcements::off);
        let state =
            AppState::new(market, database.db.clone(), config, auth, limiter, announcements);
        let options = ServerOptions {
            workers: 1,
            shutdown_timeout_secs: 1,
            body_timeout: BODY_TIMEOUT,
            follow_interval: shared.follow_interval.unwrap_or(ap_market::indexer::FOLLOW_INTERVAL),
        };
        let server = ap_api::server(state.clone(), listener, &options).expect("server");
        let handle = server.handle();
        actix_web::rt::spawn(server);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        TestApp {
            base,
            client,
            state,
            clock,
            jwks,
            dev,
            stripe,
            handle,
            database,
            origin: None,
            files: files_dir,
        }
    }

    /// A session JWT of the external provider for `subject`, signed with `key`, with
    /// `changes` merged into the standard claims.
    pub fn provider_jwt(&self, key: &TestKey, subject: &str, changes: serde_json::Value) -> String {
        let now = ap_auth::Clock::now(&self.clock).timestamp();
        let mut claims = serde_json::json!({
            "iss": ISSUER, "aud": AUDIENCE, "sub": subject, "exp": now + 600, "iat": now,
            "email": format!("{subject}@example.com"), "name": format!("User {subject}"),
        });
        if let (Some(claims), Some(changes)) = (claims.as_object_mut(), changes.as_object()) {
            for (k, v) in changes {
                if v.is_null() {
                    claims.remove(k);
                } else {
                    claims.insert(k.clone(), v.clone());
                }
            }
        }
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, &claims, &key.encoding).expect("sign")
    }

    /// A valid development session for `subject`.
    pub fn dev_jwt(&self, subject: &str) -> String {
        self.dev
            .sign(
                subject,
                Some(&format!("{subject}@example.com")),
                None,
                ap_auth::Clock::now(&self.clock),
            )
            .expect("sign")
    }

    /// GET `path` with a bearer token.
    pub async fn get_as(&self, path: &str, token: &str) -> Response {
        self.send(self.client.get(format!("{}{path}", self.base)).bearer_auth(token)).await
    }

    /// POST `path` without a body, with a bearer token.
    pub async fn post_as(&self, path: &str, token: &str) -> Response {
        self.send(self.client.post(format!("{}{path}", self.base)).bearer_auth(token)).await
    }

    /// Mints a CLI token from a fresh provider session for `subject`.
    pub async fn cli_token(&self, subject: &str) -> String {
        let session = self.provider_jwt(&keys().0, subject, serde_json::json!({}));
        let res = self.post_as("/v1/auth/cli-token", &session).await;
        assert_eq!(res.status, 201, "{}", res.text);
        res.json["token"].as_str().expect("token").to_owned()
    }

    /// A CLI token of the account whose id the configuration makes an administrator
    /// (created with that id on first use, as the provider's subject `configured-admin`).
    pub async fn configured_admin(&self) -> String {
        let mut user = NewUser::new(
            ISSUER,
            "configured-admin",
            Some("configured-admin@example.com".to_owned()),
            None,
            now(),
        );
        user.id = CONFIGURED_ADMIN.to_owned();
        self.db()
            .run(move |c| {
                if ap_store::users::by_id(c, CONFIGURED_ADMIN).is_err() {
                    publish::insert_user(c, &user)?;
                }
                Ok::<_, ap_store::StoreError>(())
            })
            .await
            .expect("the configured administrator");
        self.cli_token("configured-admin").await
    }

    /// PostgreSQL only: takes the database away (see `TestDatabase::cut_off`).
    pub fn cut_off_database(&self) -> bool {
        self.database.cut_off()
    }

    /// PostgreSQL only: lets the database be reached again (see `TestDatabase::restore`).
    pub fn restore_database(&self) -> bool {
        self.database.restore()
    }

    /// Where uploads are staged before they are kept or thrown away.
    pub fn staging_dir(&self) -> std::path::PathBuf {
        self.files.path().join("archives").join("tmp")
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.database.db
    }

    /// GET `path`; answers status, headers and the JSON body (`Null` when not JSON).
    pub async fn get(&self, path: &str) -> Response {
        self.send(self.client.get(format!("{}{path}", self.base))).await
    }

    /// Sends a prepared request.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Response {
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Response { status, headers, text, json }
    }

    /// The fake Stripe behind the server's gateway (servers on the sandbox have none).
    pub fn fake_stripe(&self) -> &ap_payments::testing::FakeStripe {
        self.stripe.as_ref().expect("a fake Stripe")
    }

    /// The connected account of the newest onboarding link the fake Stripe made.
    pub fn newest_connected_account(&self) -> String {
        self.fake_stripe()
            .requests()
            .into_iter()
            .rev()
            .find(|r| r.route == "POST /v1/account_links")
            .and_then(|r| r.form.get("account").cloned())
            .expect("an onboarding link")
    }

    /// A CLI token of a user who has set a display name (ready to publish).
    pub async fn publisher_token(&self, subject: &str, display_name: &str) -> String {
        let token = self.cli_token(subject).await;
        let res = self
            .send(
                self.client
                    .patch(format!("{}/v1/users/profile", self.base))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({ "display_name": display_name })),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text);
        token
    }

    /// Sends `body` as JSON with `method` to `path`, with a bearer token when given.
    pub async fn json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> Response {
        let mut request = self.client.request(method, format!("{}{path}", self.base)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        self.send(request).await
    }

    /// Uploads `bytes` as the multipart part `part` to `path`.
    pub async fn upload(
        &self,
        path: &str,
        token: Option<&str>,
        part: &str,
        bytes: Vec<u8>,
    ) -> Response {
        let file = reqwest::multipart::Part::bytes(bytes)
            .file_name("package.zip")
            .mime_str("application/zip")
            .expect("mime");
        let form = reqwest::multipart::Form::new().part(part.to_owned(), file);
        let mut request = self.client.post(format!("{}{path}", self.base)).multipart(form);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        self.send(request).await
    }

    /// Creates a seller with a display name; answers the user id.
    pub async fn seller(&self, display_name: &str) -> String {
        let now = now();
        let slug = ap_domain::slug::display_name_slug(display_name);
        let email = Some(format!("{slug}@example.com"));
        let user = NewUser {
            display_name: Some(display_name.to_owned()),
            display_name_slug: Some(slug.clone()),
            github_username: Some("octo".to_owned()),
            bio: Some("Builds things.".to_owned()),
            website_url: Some("https://example.com".to_owned()),
            verified: true,
            ..NewUser::new("test", &slug, email, Some(display_name.to_owned()), now)
        };
        let id = user.id.clone();
        self.db().run(move |c| publish::insert_user(c, &user)).await.expect("insert user");
        id
    }

    /// Creates a listing as `spec` says; answers its id.
    pub async fn listing(&self, owner: &str, spec: Listing) -> String {
        let now = now();
        let created = spec.created_at.unwrap_or(now);
        let listing = NewListing {
            id: uuid::Uuid::now_v7().to_string(),
            slug: spec.slug.to_owned(),
            owner_id: owner.to_owned(),
            listing_type: spec.kind.to_owned(),
            title: spec.title.to_owned(),
            description: spec.description.to_owned(),
            long_description: format!("Long text about {}.", spec.title),
            category: spec.category.to_owned(),
            price_cents: spec.price_cents,
            currency: "usd".to_owned(),
            download_count: spec.downloads,
            install_count: 0,
            view_count: 0,
            rating_sum: spec.ratings.iter().sum(),
            rating_count: spec.ratings.len() as i64,
            created_at: created,
            updated_at: created,
        };
        let id = listing.id.clone();
        let versions = spec.versions.clone();
        let archived = spec.archived;
        self.db()
            .run(move |c| {
                write_tx(c, |c| {
                    publish::insert_listing(c, &listing)?;
                    for (i, version) in versions.iter().enumerate() {
                        let parts: Vec<i32> =
                            version.split('.').map(|p| p.parse().expect("version")).collect();
                        let at = created + chrono::Duration::seconds(i as i64);
                        publish::insert_live_version(
                            c,
                            &NewListingVersion {
                                id: uuid::Uuid::now_v7().to_string(),
                                listing_id: listing.id.clone(),
                                version: version.clone(),
                                major: parts[0],
                                minor: parts[1],
                                patch: parts[2],
                                status: "live".to_owned(),
                                changelog: Some(format!("Changes in {version}")),
                                archive_sha256: Some("ab".repeat(32)),
                                content_hash: Some(format!("sha256:{}", "cd".repeat(32))),
                                size_bytes: Some(1234),
                                security_status: Some("warn".to_owned()),
                                security_score: Some(8),
                                findings: Some(
                                    r#"[{"severity":"LOW","category":"style","detail":"Long line","file":"SKILL.md","line":3,"match":"x","context":[]}]"#
                                        .to_owned(),
                                ),
                                layers: Some("[]".to_owned()),
                                scanned_at: Some(at),
                                published_at: Some(at),
                                created_at: at,
                                upload_started_at: None,
                            },
                            at,
                        )?;
                    }
                    if archived {
                        publish::archive_listing(c, &listing.id, now)?;
                    }
                    Ok::<_, ap_store::StoreError>(())
                })
            })
            .await
            .expect("insert listing");
        self.state.market().catalog_changed().await;
        id
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
        drop(self.jwks.handle.stop(false));
    }
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// A ZIP archive of `(path, text)` files.
pub fn zip(files: &[(&str, &str)]) -> Vec<u8> {
    use std::io::Write;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (path, text) in files {
        writer.start_file(*path, options).expect("entry");
        writer.write_all(text.as_bytes()).expect("write");
    }
    writer.finish().expect("finish").into_inner()
}

/// A clean skill package: `SKILL.md` with frontmatter and a reference file.
pub fn skill_package(name: &str, body: &str) -> Vec<u8> {
    let manifest = format!(
        "---\nname: {name}\ndescription: Helps write clear commit messages from staged changes.\n---\n\n# {name}\n\n{body}\n"
    );
    zip(&[("SKILL.md", &manifest), ("reference.md", "# Reference\n\nExamples of good messages.\n")])
}

/// What a fixture listing looks like.
#[derive(Debug, Clone)]
pub struct Listing {
    pub slug: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub category: &'static str,
    pub kind: &'static str,
    pub price_cents: i64,
    pub downloads: i64,
    pub ratings: Vec<i64>,
    /// Live versions in order of publication; empty = never published.
    pub versions: Vec<String>,
    pub archived: bool,
    pub created_at: Option<NaiveDateTime>,
}

impl Listing {
    /// A free live skill `1.0.0` in `development`.
    pub fn skill(slug: &'static str, title: &'static str) -> Self {
        Listing {
            slug,
            title,
            description: "A helpful skill for everyday work.",
            category: "development",
            kind: "skill",
            price_cents: 0,
            downloads: 0,
            ratings: Vec::new(),
            versions: vec!["1.0.0".to_owned()],
            archived: false,
            created_at: None,
        }
    }

    /// A free live agent `1.0.0` in `code-agents`.
    pub fn agent(slug: &'static str, title: &'static str) -> Self {
        Listing { kind: "agent", category: "code-agents", ..Listing::skill(slug, title) }
    }
}

/// What the client saw.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Response {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Slugs of `items` (or of the `agentpowers` section of a search answer).
    pub fn slugs(&self) -> Vec<String> {
        match self.json.get("items") {
            Some(_) => self.texts("/items", "/slug"),
            None => self.texts("/agentpowers/items", "/slug"),
        }
    }

    /// The text at `field` (a JSON pointer) of each element of the array at `list`.
    pub fn texts(&self, list: &str, field: &str) -> Vec<String> {
        self.json
            .pointer(list)
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .map(|i| i.pointer(field).and_then(Value::as_str).unwrap_or("").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Asserts a coded error.
    #[track_caller]
    pub fn assert_coded(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.json["detail"]["code"], code, "{}", self.text);
        assert!(self.json["detail"]["detail"].is_string(), "{}", self.text);
        assert!(self.header("x-request-id").is_some());
        assert!(self.header("content-type").is_some_and(|ct| ct.starts_with("application/json")));
    }

    /// Asserts a 422 validation list naming these query fields.
    #[track_caller]
    pub fn assert_invalid(&self, fields: &[&str]) {
        assert_eq!(self.status, 422, "{}", self.text);
        let entries = self.json["detail"].as_array().expect("422 detail is a list");
        let locs: Vec<&str> = entries.iter().map(|e| e["loc"][1].as_str().unwrap_or("")).collect();
        assert_eq!(locs, fields, "{}", self.text);
        for entry in entries {
            assert_eq!(entry["loc"][0], "query");
            assert!(entry["msg"].as_str().is_some_and(|m| !m.contains('[')));
            assert!(entry["type"].is_string());
        }
    }
}

/// A private Redis server on `port` (else a free one), ready when this returns (for
/// tests that stop it).
pub fn private_redis(port: Option<u16>) -> (Child, u16) {
    let port = port.unwrap_or_else(|| {
        std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
    });
    let mut child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("redis-server must be installed for this test");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    loop {
        let line = lines.next().expect("redis-server exited").expect("read");
        if line.contains("Ready to accept connections") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    (child, port)
}
