//! Fuzzes the upload receiver, `ap_api::upload::receive`: the multipart reader (actix-multipart)
//! and our handling of its parts, staging, caps and errors, as `POST …/upload` and
//! `POST /v1/security/scan-package` use it.
//!
//! Input: the first byte sets the chunk size (1–255 bytes; the body arrives in chunks of
//! that size, so boundaries and headers straddle chunks), the rest is the request body,
//! sent with `Content-Type: multipart/form-data; boundary=AaB03x`. The request is an
//! `actix_web::test::TestRequest` driven on an actix `System` (one per thread, reused).
//! Checked: it never panics; a body refused is refused with a client error (4xx, never
//! 500); a body accepted yields only the text part asked for (`skill_type`, trimmed, at
//! most 1024 bytes) and at most one staged file whose size and SHA-256 match the bytes on
//! disk, no larger than the body or the archive cap.
#![no_main]

use std::pin::Pin;

use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::rt::{System, SystemRunner};
use actix_web::test::TestRequest;
use actix_web::web::{self, Bytes};
use actix_web::{FromRequest, dev};
use ap_api::upload::{self, MAX_ARCHIVE_BYTES};
use ap_market::blobs::{LocalBlobs, sha256_hex};
use futures_util::{Stream, stream};
use libfuzzer_sys::fuzz_target;

const CONTENT_TYPE: &str = "multipart/form-data; boundary=AaB03x";
/// The part streamed to staging, and the one text part kept (as `scan-package` asks).
const FILE_PART: &str = "package";
const TEXT_PART: &str = "skill_type";

thread_local! {
    static SYSTEM: SystemRunner = System::new();
}

type Chunks = Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>;

fuzz_target!(|data: &[u8]| {
    let Some((&size, body)) = data.split_first() else { return };
    let chunks: Vec<Result<Bytes, PayloadError>> =
        body.chunks(usize::from(size.max(1))).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    let chunks: Chunks = Box::pin(stream::iter(chunks));
    let mut payload: dev::Payload = chunks.into();
    let req =
        TestRequest::post().insert_header((header::CONTENT_TYPE, CONTENT_TYPE)).to_http_request();
    let blobs = LocalBlobs::new(std::env::temp_dir().join("ap-fuzz-multipart"));

    let result = SYSTEM.with(|system| {
        system.block_on(async {
            let payload = web::Payload::from_request(&req, &mut payload)
                .await
                .expect("taking the payload cannot fail");
            upload::receive(&req, payload, &blobs, FILE_PART, &[TEXT_PART]).await
        })
    });

    match result {
        Ok(received) => {
            for (name, value) in &received.fields {
                assert_eq!(name.as_str(), TEXT_PART);
                assert!(value.len() <= 1024, "{} bytes", value.len());
                assert_eq!(value.trim(), value.as_str());
            }
            if let Some(file) = &received.file {
                let bytes = file.read().expect("the staged file reads back");
                assert_eq!(bytes.len() as u64, file.size());
                assert_eq!(sha256_hex(&bytes), file.sha256());
                assert!(bytes.len() <= body.len());
                assert!(file.size() <= MAX_ARCHIVE_BYTES);
            }
        }
        Err(error) => {
            assert!(error.code().http_status() < 500, "{error:?}");
        }
    }
});
