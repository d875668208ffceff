//! `TestApp`: a running server over a throw-away database, plus data fixtures.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use ap_api::{ApiConfig, AppState, ServerOptions};
use ap_store::models::{NewListing, NewListingVersion, NewUser};
use ap_store::testing::TestDatabase;
use ap_store::{Db, publish, write_tx};
use chrono::{NaiveDateTime, Utc};
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

/// A running server and its database.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// HTTP client.
    pub client: reqwest::Client,
    /// The application state the server uses.
    pub state: AppState,
    handle: ServerHandle,
    _database: TestDatabase,
}

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
        let state = AppState::new(
            database.db.clone(),
            ApiConfig { cache_ttl: Duration::from_secs(60), bench_routes: false },
        );
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let options = ServerOptions { workers: 1, shutdown_timeout_secs: 1 };
        let server = ap_api::server(state.clone(), listener, &options).expect("server");
        let handle = server.handle();
        actix_web::rt::spawn(server);
        TestApp { base, client: reqwest::Client::new(), state, handle, _database: database }
    }

    /// The database.
    pub fn db(&self) -> &Db {
        self.state.db()
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

    /// Creates a seller with a display name; answers the user id.
    pub async fn seller(&self, display_name: &str) -> String {
        let now = now();
        let slug = ap_domain::slug::display_name_slug(display_name);
        let user = NewUser {
            id: uuid::Uuid::now_v7().to_string(),
            identity_issuer: "test".to_owned(),
            identity_subject: slug.clone(),
            email: Some(format!("{slug}@example.com")),
            name: Some(display_name.to_owned()),
            display_name: Some(display_name.to_owned()),
            display_name_slug: Some(slug),
            github_username: Some("octo".to_owned()),
            bio: Some("Builds things.".to_owned()),
            website_url: Some("https://example.com".to_owned()),
            github_url: None,
            linkedin_url: None,
            twitter_url: None,
            avatar_url: None,
            verified: true,
            created_at: now,
            updated_at: now,
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
                            },
                            at,
                        )?;
                    }
                    if archived {
                        publish::archive_listing(c, &listing.id, now)?;
                    }
                    Ok(())
                })
            })
            .await
            .expect("insert listing");
        self.state.cache().invalidate();
        id
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
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
        let items = self.json.get("items").or_else(|| self.json["agentpowers"].get("items"));
        items
            .and_then(Value::as_array)
            .map(|items| {
                items.iter().map(|i| i["slug"].as_str().unwrap_or("").to_owned()).collect()
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
