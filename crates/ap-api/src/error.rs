//! `ApiError`, the one error type of the HTTP layer, and the contract's error envelope.
//!
//! Any error that implements [`ErrorCode`] converts into an `ApiError` (one blanket
//! `From`), so handlers use bare `?` on every service's error. Coded errors answer
//! `{"detail": {"detail": "...", "code": "..."}}` with the status from
//! [`Code::http_status`]; field failures answer 422 `{"detail": [{loc, msg, type}]}`.
//! Errors that answer 5xx show the client a generic message and log their whole source
//! chain under the request id.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use ap_domain::wire::CodedError;
use ap_domain::{Code, ErrorCode, FieldError, FieldErrors, Refusal};
use serde::Serialize;

/// An error answered to the client: any [`ErrorCode`] error.
pub struct ApiError(Box<dyn ErrorCode>);

impl<E: ErrorCode> From<E> for ApiError {
    fn from(error: E) -> Self {
        ApiError(Box::new(error))
    }
}

impl ApiError {
    /// A coded refusal with a human message.
    pub fn coded(code: Code, message: impl Into<String>) -> Self {
        Refusal::new(code, message).into()
    }

    /// A 422 for one field.
    pub fn field(error: FieldError) -> Self {
        FieldErrors::from(error).into()
    }

    /// The code of this error as the client sees it.
    pub fn code(&self) -> Code {
        self.0.code()
    }

    /// What the client is told (for errors below 500).
    pub fn public_message(&self) -> String {
        self.0.public_message()
    }
}

impl std::fmt::Debug for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ApiError").field(&self.0.code()).field(&self.0.to_string()).finish()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

#[derive(Serialize)]
struct Envelope<T: Serialize> {
    detail: T,
}

fn status_of(code: Code) -> StatusCode {
    StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A JSON response with the contract's coded envelope.
pub fn coded_response(code: Code, message: &str) -> HttpResponse {
    HttpResponse::build(status_of(code))
        .json(Envelope { detail: CodedError { detail: message.to_owned(), code, findings: None } })
}

/// The error and every source under it, for the log.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        status_of(self.code())
    }

    fn error_response(&self) -> HttpResponse {
        let code = self.code();
        if let Some(errors) = self.0.field_errors() {
            return HttpResponse::UnprocessableEntity().json(Envelope { detail: &errors.0 });
        }
        if code.http_status() >= 500 {
            let mut response = coded_response(code, message_for_code(code));
            match self.0.retry_after() {
                Some(seconds) => {
                    tracing::warn!(code = code.as_str(), cause = %chain(&*self.0), "busy");
                    response.headers_mut().insert(header::RETRY_AFTER, seconds.into());
                }
                None => {
                    tracing::error!(code = code.as_str(), cause = %chain(&*self.0), "request failed");
                }
            }
            return response;
        }
        HttpResponse::build(status_of(code)).json(Envelope {
            detail: CodedError {
                detail: self.0.public_message(),
                code,
                findings: self.0.findings().map(<[serde_json::Value]>::to_vec),
            },
        })
    }
}

/// The code that stands for a bare framework error status (404 from routing, 405, 413, …).
pub fn code_for_status(status: StatusCode) -> Code {
    match status.as_u16() {
        401 => Code::Unauthorized,
        403 => Code::Forbidden,
        404 => Code::NotFound,
        405 => Code::MethodNotAllowed,
        408 => Code::RequestTimeout,
        409 => Code::Conflict,
        413 => Code::PayloadTooLarge,
        415 => Code::UnsupportedMediaType,
        422 => Code::ValidationError,
        429 => Code::RateLimited,
        503 => Code::ServiceUnavailable,
        s if s >= 500 => Code::Internal,
        _ => Code::BadRequest,
    }
}

/// The message that goes with a bare framework error status (and with every 5xx).
pub fn message_for_code(code: Code) -> &'static str {
    match code {
        Code::NotFound => "Not found",
        Code::MethodNotAllowed => "Method not allowed",
        Code::RequestTimeout => "The request body did not arrive in time",
        Code::PayloadTooLarge => "Request body too large",
        Code::UnsupportedMediaType => "Unsupported content type",
        Code::ServiceUnavailable => "Service temporarily unavailable",
        Code::PaymentProviderError => "The payment provider refused the request",
        Code::PaymentProviderUnavailable => "The payment provider is unavailable; try again",
        Code::Internal => "Internal server error",
        Code::Unauthorized => "Not authenticated",
        Code::Forbidden => "Forbidden",
        Code::RateLimited => "Rate limit exceeded",
        _ => "Bad request",
    }
}
