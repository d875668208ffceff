//! A typed async client for the AgentPowers marketplace API (docs/API.md), on the wire
//! types the server itself uses ([`ap_domain::wire`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), ap_client::Error> {
//! let client = ap_client::Client::from_env()?;
//! let found = client.search(&ap_client::SearchQuery::words("git commit")).await?;
//! for listing in &found.items {
//!     println!("{} {}", listing.slug, listing.title);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! One [`Client`] per server and token; it is cheap to clone. Calls are grouped by area:
//! the catalog (`catalog`), the signed-in account (`account`), publishing (`publishing`),
//! purchases and downloads (`commerce`), reviews and reports (`reviews`), and the
//! seller's side (`sellers`). Every refusal is an [`Error`] carrying the contract's code.

mod account;
mod catalog;
mod commerce;
mod error;
mod publishing;
mod reviews;
mod sellers;

use std::time::Duration;

use reqwest::header::{self, HeaderValue};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;

pub use catalog::{ListQuery, SearchQuery};
pub use commerce::{NewInstallation, PurchaseDelivery};
pub use error::{Error, FieldProblem};
pub use publishing::{ListingChanges, NewListing};
pub use reviews::NewReport;
pub use sellers::Days;

/// The environment variable naming the API's base URL, as the existing clients read it.
pub const API_URL_ENV: &str = "AGENTPOWERS_API_URL";
/// The hosted product's API, when `AGENTPOWERS_API_URL` is unset.
pub const DEFAULT_API_URL: &str = "https://api.agentpowers.ai";

/// A client of one server, optionally signed in with a bearer token (a CLI token or a
/// session JWT).
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: url::Url,
    token: Option<String>,
    max_wait: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a secret: only whether there is one.
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("signed_in", &self.token.is_some())
            .finish_non_exhaustive()
    }
}

/// How a [`Client`] is made.
#[derive(Clone)]
pub struct ClientBuilder {
    base: String,
    token: Option<String>,
    timeout: Duration,
    connect_timeout: Duration,
    max_wait: Duration,
    user_agent: String,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a secret: only whether there is one.
        f.debug_struct("ClientBuilder")
            .field("base", &self.base)
            .field("token", &self.token.is_some())
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_wait", &self.max_wait)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// A bearer token for every call.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// How long a whole call may take (30 s by default; archive transfers get this per
    /// call too).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long connecting may take (10 s by default).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The longest `Retry-After` a rate-limited call waits out before answering
    /// [`Error::RateLimited`] (10 s by default; zero never waits).
    pub fn max_rate_limit_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }

    /// The `User-Agent` sent (default `ap-client/<version>`).
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = agent.into();
        self
    }

    /// The client.
    pub fn build(self) -> Result<Client, Error> {
        let mut base = url::Url::parse(self.base.trim())
            .map_err(|e| Error::Url(format!("{}: {e}", self.base)))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(Error::Url(format!("{}: not an http(s) URL", self.base)));
        }
        // Paths are joined below the base's own path, whatever its trailing slash.
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(self.user_agent)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Client { http, base, token: self.token, max_wait: self.max_wait })
    }
}

impl Client {
    /// A builder for the server at `base_url`.
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            base: base_url.into(),
            token: None,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_wait: Duration::from_secs(10),
            user_agent: concat!("ap-client/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }

    /// A client of the server in `AGENTPOWERS_API_URL` (else the hosted API), not signed
    /// in.
    pub fn from_env() -> Result<Client, Error> {
        let base = std::env::var(API_URL_ENV).unwrap_or_else(|_| DEFAULT_API_URL.to_owned());
        Client::builder(base).build()
    }

    /// The same client, signed in with `token`.
    pub fn with_token(&self, token: impl Into<String>) -> Client {
        Client { token: Some(token.into()), ..self.clone() }
    }

    /// The base URL calls are made under.
    pub fn base_url(&self) -> &url::Url {
        &self.base
    }

    /// `path` (e.g. `v1/skills`) under the base URL. A `.` or `..` segment (a slug such
    /// as `..`) is refused: joined, it would name another path.
    fn url(&self, path: &str) -> Result<url::Url, Error> {
        if path.split('/').any(|part| part == "." || part == "..") {
            return Err(Error::Url(format!("{path}: a `.` or `..` segment")));
        }
        self.base.join(path.trim_start_matches('/')).map_err(|e| Error::Url(format!("{path}: {e}")))
    }

    /// A request to `path`, with the token when there is one.
    fn request(&self, method: Method, path: &str) -> Result<RequestBuilder, Error> {
        let mut request = self.http.request(method, self.url(path)?);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        Ok(request.header(header::ACCEPT, HeaderValue::from_static("application/json")))
    }

    /// Sends `request`, waiting out a 429's `Retry-After` when it fits the bound (a
    /// request whose body cannot be sent twice is not retried); a refusal is an [`Error`].
    async fn send(&self, request: RequestBuilder) -> Result<reqwest::Response, Error> {
        let mut waited = Duration::ZERO;
        loop {
            let again = request.try_clone();
            let res = match again {
                Some(copy) => copy.send().await?,
                None => return self.checked(request.send().await?).await,
            };
            if res.status() == StatusCode::TOO_MANY_REQUESTS {
                let wait = retry_after(&res);
                if let Some(total) = waited.checked_add(wait).filter(|t| *t <= self.max_wait) {
                    waited = total;
                    tokio::time::sleep(wait).await;
                    continue;
                }
                return Err(Error::RateLimited { retry_after: wait });
            }
            return self.checked(res).await;
        }
    }

    /// `res` when it is a success, else its error.
    async fn checked(&self, res: reqwest::Response) -> Result<reqwest::Response, Error> {
        let status = res.status();
        if status.is_success() {
            return Ok(res);
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(Error::RateLimited { retry_after: retry_after(&res) });
        }
        let body = res.bytes().await?;
        Err(error::from_answer(status.as_u16(), &body))
    }

    /// Sends `request` and reads its JSON answer.
    async fn json<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, Error> {
        let res = self.send(request).await?;
        let status = res.status().as_u16();
        let body = res.bytes().await?;
        serde_json::from_slice(&body).map_err(|_| error::unexpected(status, &body))
    }

    /// `GET path` with `query`, as JSON.
    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, Error> {
        self.json(self.request(Method::GET, path)?.query(query)).await
    }

    /// `method path` with a JSON `body`, as JSON.
    async fn with_body<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Result<T, Error> {
        self.json(self.request(method, path)?.json(body)).await
    }

    /// `POST path` without a body (as the contract's body-less POSTs arrive), as JSON.
    async fn post_empty<T: DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        let request = self.request(Method::POST, path)?.header(header::CONTENT_LENGTH, "0");
        self.json(request).await
    }
}

/// A 429's `Retry-After` (whole seconds; at least one).
fn retry_after(res: &reqwest::Response) -> Duration {
    let seconds = res
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(1);
    Duration::from_secs(seconds.max(1))
}

/// A page request's query pairs.
fn page_query(limit: Option<i64>, offset: Option<i64>) -> Vec<(&'static str, String)> {
    let mut query = Vec::new();
    if let Some(limit) = limit {
        query.push(("limit", limit.to_string()));
    }
    if let Some(offset) = offset {
        query.push(("offset", offset.to_string()));
    }
    query
}

/// A ZIP package as a multipart part.
fn zip_part(zip: Vec<u8>) -> Result<reqwest::multipart::Part, Error> {
    Ok(reqwest::multipart::Part::bytes(zip).file_name("package.zip").mime_str("application/zip")?)
}

/// `segment` escaped for a URL path.
fn segment(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes()).collect::<String>().replace('+', "%20")
}
