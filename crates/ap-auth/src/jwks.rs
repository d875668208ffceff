//! A JSON Web Key Set, loaded from a URL or a file and kept by key id.
//!
//! Keys are looked up by `kid` (a token without `kid` may use a set's only key). An
//! unknown `kid` or a set older than `max_age` triggers a refresh: at most one per
//! `min_refresh`, by one caller while the others answer from the keys already loaded. A
//! successful reload drops removed keys; a failed one keeps the last keys.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::RwLock;

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::jwk::{Jwk, JwkSet};

use crate::error::AuthError;

/// Where the key set comes from.
#[derive(Debug, Clone)]
pub enum JwksSource {
    /// Fetched over HTTP(S), e.g. `https://<clerk-domain>/.well-known/jwks.json`.
    Url(String),
    /// Read from a local file.
    File(PathBuf),
}

#[derive(Debug, Default)]
struct Keys {
    by_kid: HashMap<String, Jwk>,
    all: Vec<Jwk>,
    loaded_at: Option<DateTime<Utc>>,
}

/// A cached key set.
#[derive(Debug)]
pub struct Jwks {
    source: JwksSource,
    http: reqwest::Client,
    keys: RwLock<Keys>,
    refresh: tokio::sync::Mutex<Option<DateTime<Utc>>>,
    min_refresh: Duration,
    max_age: Duration,
}

impl Jwks {
    /// A key set from `source`, loaded on first use.
    pub fn new(source: JwksSource) -> Self {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        Self {
            source,
            http,
            keys: RwLock::new(Keys::default()),
            refresh: tokio::sync::Mutex::new(None),
            min_refresh: Duration::seconds(60),
            max_age: Duration::hours(1),
        }
    }

    /// The key for `kid` (`None`: the set's only key, for providers that publish one key
    /// without an id), and whether the set is fresh.
    fn cached(&self, kid: Option<&str>, now: DateTime<Utc>) -> (Option<Jwk>, bool) {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        let fresh = keys.loaded_at.is_some_and(|at| now - at < self.max_age);
        let key = match kid {
            Some(kid) => keys.by_kid.get(kid).cloned(),
            None if keys.all.len() == 1 => keys.all.first().cloned(),
            None => None,
        };
        (key, fresh)
    }

    /// The key a token names, refreshing the set when the key is unknown or the set is
    /// stale — at most once per `min_refresh`, by one caller at a time. While a refresh is
    /// running or failing, the last loaded keys keep answering.
    pub async fn key(&self, kid: Option<&str>, now: DateTime<Utc>) -> Result<Jwk, AuthError> {
        let (key, fresh) = self.cached(kid, now);
        if let (Some(key), true) = (&key, fresh) {
            return Ok(key.clone());
        }
        // Someone else is refreshing: answer from what is loaded rather than queue.
        let Ok(mut last_attempt) = self.refresh.try_lock() else {
            return key.ok_or(AuthError::Unauthorized);
        };
        if last_attempt.is_none_or(|at| now - at >= self.min_refresh) {
            *last_attempt = Some(now);
            match self.load().await {
                Ok(set) => {
                    let by_kid = set
                        .keys
                        .iter()
                        .filter_map(|k| k.common.key_id.clone().map(|kid| (kid, k.clone())))
                        .collect();
                    *self.keys.write().unwrap_or_else(|e| e.into_inner()) =
                        Keys { by_kid, all: set.keys, loaded_at: Some(now) };
                }
                Err(error) => {
                    tracing::error!(%error, "loading the JWKS failed; keeping the last keys")
                }
            }
        }
        drop(last_attempt);
        self.cached(kid, now).0.ok_or(AuthError::Unauthorized)
    }

    async fn load(&self) -> Result<JwkSet, String> {
        match &self.source {
            JwksSource::File(path) => {
                let text = tokio::fs::read_to_string(path).await.map_err(|e| e.to_string())?;
                serde_json::from_str(&text).map_err(|e| e.to_string())
            }
            JwksSource::Url(url) => {
                let response = self.http.get(url).send().await.map_err(|e| e.to_string())?;
                let response = response.error_for_status().map_err(|e| e.to_string())?;
                response.json().await.map_err(|e| e.to_string())
            }
        }
    }
}
