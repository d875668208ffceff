//! `ApiError`, the one error type of the HTTP layer, and the contract's error envelope.
//!
//! Coded errors answer `{"detail": {"detail": "...", "code": "..."}}` with the status from
//! [`Code::http_status`]; validation failures answer 422 `{"detail": [{loc, msg, type}]}`.
//! Unexpected failures answer a generic 500 and log their whole cause chain under the
//! request id.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use ap_domain::wire::CodedError;
use ap_domain::{Code, FieldError, FieldErrors};
use ap_store::StoreError;
use serde::Serialize;

/// An error answered to the client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A coded error with a human message.
    #[error("{code}: {message}")]
    Coded {
        /// The code (decides the status).
        code: Code,
        /// What the client is told.
        message: String,
    },
    /// A coded error caused by a scan, with its findings.
    #[error("{code}: {message}")]
    Findings {
        /// The code (decides the status).
        code: Code,
        /// What the client is told.
        message: String,
        /// The scan findings that caused it.
        findings: Vec<serde_json::Value>,
    },
    /// Request validation failed (422 list shape).
    #[error("validation failed")]
    Validation(FieldErrors),
    /// Something unexpected; only logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A coded error.
    pub fn coded(code: Code, message: impl Into<String>) -> Self {
        ApiError::Coded { code, message: message.into() }
    }

    /// The code of this error as the client sees it.
    pub fn code(&self) -> Code {
        match self {
            ApiError::Coded { code, .. } | ApiError::Findings { code, .. } => *code,
            ApiError::Validation(_) => Code::ValidationError,
            ApiError::Internal(_) => Code::Internal,
        }
    }
}

impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> Self {
        ApiError::Validation(errors)
    }
}

impl From<FieldError> for ApiError {
    fn from(error: FieldError) -> Self {
        ApiError::Validation(error.into())
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(cause) => {
                tracing::error!(%cause, "database unavailable");
                ApiError::coded(Code::ServiceUnavailable, "Service temporarily unavailable")
            }
            StoreError::Conflict(constraint) => {
                tracing::info!(%constraint, "unique constraint");
                ApiError::coded(Code::Conflict, "The request conflicts with existing data")
            }
            StoreError::NotFound => ApiError::coded(Code::NotFound, "Not found"),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

#[derive(Serialize)]
struct Envelope<T: Serialize> {
    detail: T,
}

/// A JSON response with the contract's coded envelope.
pub fn coded_response(code: Code, message: &str) -> HttpResponse {
    let status =
        StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status)
        .json(Envelope { detail: CodedError { detail: message.to_owned(), code, findings: None } })
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code().http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Coded { code, message } => coded_response(*code, message),
            ApiError::Findings { code, message, findings } => {
                HttpResponse::build(self.status_code()).json(Envelope {
                    detail: CodedError {
                        detail: message.clone(),
                        code: *code,
                        findings: Some(findings.clone()),
                    },
                })
            }
            ApiError::Validation(errors) => {
                HttpResponse::UnprocessableEntity().json(Envelope { detail: &errors.0 })
            }
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                coded_response(Code::Internal, "Internal server error")
            }
        }
    }
}

/// The code that stands for a bare framework error status (404 from routing, 405, 413, …).
pub fn code_for_status(status: StatusCode) -> Code {
    match status.as_u16() {
        401 => Code::Unauthorized,
        403 => Code::Forbidden,
        404 => Code::NotFound,
        405 => Code::MethodNotAllowed,
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

/// The message that goes with a bare framework error status.
pub fn message_for_code(code: Code) -> &'static str {
    match code {
        Code::NotFound => "Not found",
        Code::MethodNotAllowed => "Method not allowed",
        Code::PayloadTooLarge => "Request body too large",
        Code::UnsupportedMediaType => "Unsupported content type",
        Code::ServiceUnavailable => "Service temporarily unavailable",
        Code::Internal => "Internal server error",
        Code::Unauthorized => "Not authenticated",
        Code::Forbidden => "Forbidden",
        Code::RateLimited => "Rate limit exceeded",
        _ => "Bad request",
    }
}

/// Whether a response already carries a JSON body.
pub fn is_json(response: &HttpResponse) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v: &HeaderValue| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"))
}
