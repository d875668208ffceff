//! The one trait through which every error of the marketplace names its [`Code`].
//!
//! Each library crate and each service has its own `thiserror` enum; implementing
//! [`ErrorCode`] is all it takes for the HTTP layer to answer it in the contract's
//! envelope (one blanket conversion there, so handlers use bare `?`). Errors whose code
//! answers 5xx are shown to the client only as a generic message; their whole source
//! chain goes to the log.

use crate::code::Code;
use crate::validation::FieldErrors;

/// An error that knows how the contract names it.
pub trait ErrorCode: std::error::Error + Send + Sync + 'static {
    /// The code (which decides the HTTP status).
    fn code(&self) -> Code;

    /// What the client is told. Defaults to the error's `Display`; never shown for 5xx.
    fn public_message(&self) -> String {
        self.to_string()
    }

    /// Scan findings that explain a refusal (`LISTING_TEXT_REJECTED`, …).
    fn findings(&self) -> Option<&[serde_json::Value]> {
        None
    }

    /// Field failures, answered as the 422 list shape instead of a coded body.
    fn field_errors(&self) -> Option<&FieldErrors> {
        None
    }

    /// Seconds after which a refused request may be tried again (a `Retry-After`
    /// header), for a service that is busy rather than broken.
    fn retry_after(&self) -> Option<u64> {
        None
    }
}

/// A refusal that needs no enum of its own: a code and the message the client reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    /// The code.
    pub code: Code,
    /// What the client is told.
    pub message: String,
}

impl Refusal {
    /// A refusal with `code` and `message`.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}

impl ErrorCode for Refusal {
    fn code(&self) -> Code {
        self.code
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fields: Vec<String> = self.0.iter().map(|e| e.loc.join(".")).collect();
        write!(f, "invalid fields: {}", fields.join(", "))
    }
}

impl std::error::Error for FieldErrors {}

impl ErrorCode for FieldErrors {
    fn code(&self) -> Code {
        Code::ValidationError
    }

    fn field_errors(&self) -> Option<&FieldErrors> {
        Some(self)
    }
}
