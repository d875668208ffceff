//! Receiving archives: multipart bodies streamed part by part into a staging file, with
//! the size cap enforced before anything is buffered — a declared `Content-Length` over
//! the cap is refused before the body is read, and a body that grows past it while
//! streaming is refused as soon as it does (413 either way). A body that ends where the
//! multipart reader still waits for data (cut right after a part's data, before the next
//! boundary) is refused as malformed at once; the reader alone would wait forever.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use actix_multipart::{Multipart, MultipartError};
use actix_web::HttpRequest;
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::web::{Bytes, Payload};
use ap_domain::{Code, FieldError};
use ap_market::blobs::{BlobStore, Staged, Staging};
use futures_util::Stream;

use crate::error::ApiError;
use crate::middleware::body_timed_out;

/// Largest archive accepted, bytes (docs/API.md, Publishing).
pub const MAX_ARCHIVE_BYTES: u64 = 10 * 1024 * 1024;
/// Room for multipart boundaries, part headers and small text parts.
const MAX_OVERHEAD_BYTES: u64 = 64 * 1024;
/// Longest text part, bytes.
const MAX_TEXT_PART_BYTES: usize = 1024;

/// A received multipart body: the archive part and the text parts asked for.
#[derive(Debug)]
pub struct Received {
    /// The archive, when the body had the file part.
    pub file: Option<Staged>,
    /// Text parts by name.
    pub fields: HashMap<String, String>,
}

fn too_large() -> ApiError {
    ApiError::coded(
        Code::PayloadTooLarge,
        format!("The archive is larger than {} MB", MAX_ARCHIVE_BYTES / (1024 * 1024)),
    )
}

/// Refuses a body whose declared length is over the cap (call before anything else).
pub fn check_declared_length(req: &HttpRequest) -> Result<(), ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(length) if length > MAX_ARCHIVE_BYTES + MAX_OVERHEAD_BYTES => Err(too_large()),
        _ => Ok(()),
    }
}

fn malformed(error: MultipartError) -> ApiError {
    match error {
        MultipartError::ContentTypeMissing
        | MultipartError::ContentTypeParse
        | MultipartError::ContentTypeIncompatible => {
            ApiError::coded(Code::UnsupportedMediaType, "Expected a multipart/form-data body")
        }
        MultipartError::Payload(e) if body_timed_out(&e) => {
            ApiError::coded(Code::RequestTimeout, "The request body did not arrive in time")
        }
        other => {
            tracing::info!(error = %other, "malformed multipart body");
            ApiError::coded(Code::BadRequest, "The multipart body is malformed")
        }
    }
}

/// The request body, remembering when it has ended.
struct Watched {
    inner: Payload,
    ended: Arc<AtomicBool>,
}

impl Stream for Watched {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let next = Pin::new(&mut self.inner).poll_next(cx);
        if let Poll::Ready(None) = next {
            self.ended.store(true, Ordering::SeqCst);
        }
        next
    }
}

/// The next item of `items` (the parts, or a part's chunks), or `Incomplete` when the
/// reader waits for more of a body that has ended: nothing could wake it again.
async fn next_of<S, T>(items: &mut S, ended: &AtomicBool) -> Option<Result<T, MultipartError>>
where
    S: Stream<Item = Result<T, MultipartError>> + Unpin,
{
    futures_util::future::poll_fn(|cx| match Pin::new(&mut *items).poll_next(cx) {
        Poll::Pending if ended.load(Ordering::SeqCst) => {
            Poll::Ready(Some(Err(MultipartError::Incomplete)))
        }
        other => other,
    })
    .await
}

/// Reads a multipart body: the part named `file_part` is streamed to staging (at most
/// one such part), the parts named in `text_parts` are kept as text, others are drained
/// (counted against the cap).
pub async fn receive(
    req: &HttpRequest,
    payload: Payload,
    blobs: &dyn BlobStore,
    file_part: &str,
    text_parts: &[&str],
) -> Result<Received, ApiError> {
    check_declared_length(req)?;
    let ended = Arc::new(AtomicBool::new(false));
    let body = Watched { inner: payload, ended: Arc::clone(&ended) };
    let mut multipart = Multipart::new(req.headers(), body);
    let mut received = Received { file: None, fields: HashMap::new() };
    let mut other_bytes: u64 = 0;
    while let Some(field) = next_of(&mut multipart, &ended).await {
        let mut field = field.map_err(malformed)?;
        let name = field.name().unwrap_or_default().to_owned();
        if name == file_part {
            if received.file.is_some() {
                return Err(ApiError::field(FieldError::body(
                    file_part,
                    "too_many",
                    "Send exactly one file part",
                )));
            }
            let mut staging = Staging::new(&blobs.staging_dir(), MAX_ARCHIVE_BYTES).await?;
            while let Some(chunk) = next_of(&mut field, &ended).await {
                let chunk = chunk.map_err(malformed)?;
                staging.write(&chunk).await?;
            }
            let staged = staging.finish().await?;
            received.file = Some(staged);
        } else {
            let keep = text_parts.contains(&name.as_str());
            let mut text = Vec::new();
            while let Some(chunk) = next_of(&mut field, &ended).await {
                let chunk = chunk.map_err(malformed)?;
                other_bytes += chunk.len() as u64;
                if other_bytes > MAX_OVERHEAD_BYTES {
                    return Err(too_large());
                }
                if keep {
                    text.extend_from_slice(&chunk);
                    if text.len() > MAX_TEXT_PART_BYTES {
                        return Err(ApiError::field(FieldError::body(
                            &name,
                            "string_too_long",
                            format!("String should have at most {MAX_TEXT_PART_BYTES} bytes"),
                        )));
                    }
                }
            }
            if keep {
                let text = String::from_utf8(text).map_err(|_| {
                    ApiError::field(FieldError::body(
                        &name,
                        "string_unicode",
                        "Input should be UTF-8 text",
                    ))
                })?;
                received.fields.insert(name, text.trim().to_owned());
            }
        }
    }
    Ok(received)
}
