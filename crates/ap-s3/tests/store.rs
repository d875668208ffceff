//! The S3 store against a real S3-compatible server (`AP_TEST_S3_URL`; CI starts one):
//! the blob-store contract every backend keeps, and what only a remote store can get
//! wrong. Needs `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` set (any values for a
//! local server).

use std::sync::Arc;

use ap_market::blobs::{BlobStore, Staged, conformance, sha256_hex};
use ap_s3::{MULTIPART_ABOVE, S3Blobs, testing};

#[tokio::test]
async fn the_s3_store_keeps_the_blob_store_contract() {
    let staging = tempfile::tempdir().expect("staging");
    let Some(store) = testing::fresh_store(staging.path()).await else { return };
    // Large enough to go up in three parts.
    conformance::all(Arc::new(store), MULTIPART_ABOVE as usize + 4 * 1024 * 1024).await;
}

#[tokio::test]
async fn an_archive_that_changed_after_staging_is_not_stored() {
    let staging = tempfile::tempdir().expect("staging");
    let Some(settings) = testing::fresh_settings(staging.path()).await else { return };
    let store: Arc<dyn BlobStore> = Arc::new(S3Blobs::new(settings.clone()).expect("store"));
    let large = MULTIPART_ABOVE as usize + 4 * 1024 * 1024;
    for (size, cut) in [(64 * 1024, 32 * 1024), (large, large / 2)] {
        let bytes = vec![7u8; size];
        let staged = Staged::from_bytes(staging.path(), &bytes).expect("stage");
        // The staged file is cut short after it was hashed: a single upload is never
        // sent; a multipart one sends its parts (the first a whole 5 MiB), then is
        // aborted when the hash does not match.
        std::fs::OpenOptions::new()
            .write(true)
            .open(staged.path())
            .and_then(|f| f.set_len(cut as u64))
            .expect("truncate");
        let blobs = Arc::clone(&store);
        let put = tokio::task::spawn_blocking(move || blobs.put(staged)).await.expect("task");
        assert!(put.is_err(), "a {size}-byte archive that changed was stored");
        let (blobs, sha) = (Arc::clone(&store), sha256_hex(&bytes));
        let got = tokio::task::spawn_blocking(move || blobs.get(&sha)).await.expect("task");
        assert_eq!(got.expect("get"), None, "nothing is visible");
    }
    // No upload is left pending (its parts would be stored, and billed, for ever).
    let endpoint = settings.endpoint.as_deref().expect("endpoint");
    let listing =
        reqwest::get(format!("{endpoint}/{}?uploads&prefix={}/", settings.bucket, settings.prefix))
            .await
            .expect("list uploads");
    assert_eq!(listing.status(), 200);
    let listing = listing.text().await.expect("body");
    assert!(listing.contains("ListMultipartUploadsResult"), "{listing}");
    assert!(!listing.contains("<Upload>"), "an aborted upload is gone: {listing}");
}
