//! A JSON Web Key Set, loaded from a URL or a file and kept by key id.
//!
//! Keys are looked up by `kid`. An unknown `kid` triggers one refresh (key rotation), at
//! most once per `min_refresh`; the whole set is also reloaded when it is older than
//! `max_age`, so removed keys stop being trusted. Refreshes are single-flight.

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

    fn cached(&self, kid: &str, now: DateTime<Utc>) -> Option<Jwk> {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        let fresh = keys.loaded_at.is_some_and(|at| now - at < self.max_age);
        fresh.then(|| keys.by_kid.get(kid).cloned()).flatten()
    }

    /// The key with this id, refreshing the set once if it is unknown or stale.
    pub async fn key(&self, kid: &str, now: DateTime<Utc>) -> Result<Jwk, AuthError> {
        if let Some(key) = self.cached(kid, now) {
            return Ok(key);
        }
        let mut last_attempt = self.refresh.lock().await;
        // Another caller may have refreshed while this one waited.
        if let Some(key) = self.cached(kid, now) {
            return Ok(key);
        }
        let stale = {
            let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
            keys.loaded_at.is_none_or(|at| now - at >= self.max_age)
        };
        let may_refresh = stale || last_attempt.is_none_or(|at| now - at >= self.min_refresh);
        if may_refresh {
            *last_attempt = Some(now);
            match self.load().await {
                Ok(set) => {
                    let by_kid = set
                        .keys
                        .into_iter()
                        .filter_map(|k| k.common.key_id.clone().map(|kid| (kid, k)))
                        .collect();
                    *self.keys.write().unwrap_or_else(|e| e.into_inner()) =
                        Keys { by_kid, loaded_at: Some(now) };
                }
                Err(error) => tracing::error!(%error, "loading the JWKS failed"),
            }
        }
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        keys.by_kid.get(kid).cloned().ok_or(AuthError::Unauthorized)
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
