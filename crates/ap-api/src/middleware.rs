//! The outermost middleware: request ids, request logs, the error envelope, and the
//! request-body deadline.
//!
//! Every response leaves with `X-Request-Id` (the client's, when it sent a sane one) and
//! one structured log line. Error responses the framework produced without a JSON body
//! (routing 404, 405, payload errors) are rewritten into the contract's coded envelope.
//! A request body must arrive in full within the body deadline: a client that stops
//! sending (or trickles) gets 408 `REQUEST_TIMEOUT` instead of holding a worker's
//! buffers and a staging file open.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, Data};
use actix_web::{Error, HttpMessage};
use futures_util::Stream;
use tracing::Instrument;

use crate::error::{code_for_status, coded_response, message_for_code};
use crate::state::AppState;

/// The request-id header.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served (in request extensions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// The client's request id when it is 1–128 characters of `[A-Za-z0-9._:-]`, else a new
/// UUID (so the header can neither break a log line nor grow without bound).
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=128).contains(&v.len())
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b))
        })
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

/// Whether an error response lacks a body of ours (framework errors are empty or plain text).
fn needs_envelope(res: &ServiceResponse<BoxBody>) -> bool {
    if res.status().as_u16() < 400 {
        return false;
    }
    match res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(ct) => ct.starts_with("text/plain"),
    }
}

/// Request id, log line and envelope for every request.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let id = request_id(&req);
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    let path = req.path().to_owned();
    let span = tracing::info_span!("request", request_id = %id);
    let started = Instant::now();

    // Handlers and extractors turn their errors into responses; an `Err` here could only
    // come from a failing middleware and is left to actix. (Holding a clone of the
    // request across the call is not possible: routing needs it unshared.)
    let mut res = next.call(req).instrument(span.clone()).await?.map_into_boxed_body();
    if needs_envelope(&res) {
        let code = code_for_status(res.status());
        res = res.into_response(coded_response(code, message_for_code(code)));
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(X_REQUEST_ID, value);
    }
    let status = res.status().as_u16();
    let elapsed = started.elapsed();
    let elapsed_us = elapsed.as_micros() as u64;
    let route = res.request().match_pattern();
    let template = route.as_deref().unwrap_or("unmatched");
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!(%method, %path, route = template, status, elapsed_us, "request");
        } else {
            tracing::info!(%method, %path, route = template, status, elapsed_us, "request");
        }
    });
    crate::metrics::record_request(&method, route, status, elapsed);
    // A signed-in caller's successful write may change what other instances cache
    // (tokens, listings, profiles, holds): they follow it now, not at their next tick.
    // Anonymous writes (installations, scans of a package) change nothing cached, and
    // must not let anyone make every instance follow.
    if !method.is_safe()
        && status < 400
        && crate::auth::signed_in(res.request())
        && let Some(state) = res.request().app_data::<Data<AppState>>()
    {
        state.announcements().changed();
    }
    Ok(res)
}

/// A request body that fails with a timed-out I/O error once its deadline passes.
struct Deadline {
    inner: Payload,
    timer: Pin<Box<tokio::time::Sleep>>,
    expired: bool,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.expired {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        match self.timer.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.expired = true;
                let error = std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the request body did not arrive in time",
                );
                Poll::Ready(Some(Err(PayloadError::Io(error))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Whether a body read failed because its deadline passed (answered 408).
pub fn body_timed_out(error: &PayloadError) -> bool {
    matches!(error, PayloadError::Io(e) if e.kind() == std::io::ErrorKind::TimedOut)
}

/// Gives the body of every request that may carry one `limit` to arrive in full, counted
/// from when its headers were read.
pub async fn bound_body(
    limit: Duration,
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        let inner = req.take_payload();
        let timer = Box::pin(tokio::time::sleep(limit));
        let bounded: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
            Box::pin(Deadline { inner, timer, expired: false });
        req.set_payload(Payload::from(bounded));
    }
    next.call(req).await
}
