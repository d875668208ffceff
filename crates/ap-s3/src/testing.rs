//! A fresh place in the S3-compatible server of `AP_TEST_S3_URL` (a local one in CI),
//! for tests: bucket `ap-test` (created on first use), a new key prefix per store.

use std::path::Path;

use crate::{S3Blobs, S3Settings};

/// Environment variable naming the test S3 endpoint, e.g. `http://127.0.0.1:9000`.
pub const S3_ENV: &str = "AP_TEST_S3_URL";
/// The bucket tests share (each store has its own prefix).
pub const BUCKET: &str = "ap-test";

/// Settings for a new prefix of the test bucket, staging in `staging`; `None` (with a
/// note) when `AP_TEST_S3_URL` is unset. An unreachable server is a failure.
pub async fn fresh_settings(staging: &Path) -> Option<S3Settings> {
    let Ok(endpoint) = std::env::var(S3_ENV) else {
        eprintln!("{S3_ENV} unset: skipping the S3 store");
        return None;
    };
    let endpoint = endpoint.trim_end_matches('/').to_owned();
    // S3 answers 200 for a bucket of one's own that exists already (us-east-1).
    let created = reqwest::Client::new()
        .put(format!("{endpoint}/{BUCKET}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{S3_ENV}={endpoint} is unreachable: {e}"));
    assert!(created.status().is_success(), "creating the test bucket: {}", created.status());
    Some(S3Settings {
        bucket: BUCKET.to_owned(),
        prefix: format!("t-{}", uuid::Uuid::new_v4().simple()),
        endpoint: Some(endpoint),
        region: Some("us-east-1".to_owned()),
        staging_dir: staging.to_owned(),
    })
}

/// A store under a new prefix of the test bucket (see [`fresh_settings`]).
pub async fn fresh_store(staging: &Path) -> Option<S3Blobs> {
    let settings = fresh_settings(staging).await?;
    Some(S3Blobs::new(settings).expect("S3 store"))
}
