//! Field-level validation failures, reported as the contract's 422 list:
//! `{"detail": [{"loc": ["query", "limit"], "msg": "...", "type": "..."}]}`.

use serde::{Deserialize, Serialize};

/// One failed field: where it is, what is wrong, and a stable error type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// Location, e.g. `["query", "limit"]` or `["body", "price_cents"]`.
    pub loc: Vec<String>,
    /// Human-readable message (no square brackets).
    pub msg: String,
    /// Machine-readable kind, e.g. `less_than_equal` or `int_parsing`.
    #[serde(rename = "type")]
    pub kind: String,
}

impl FieldError {
    /// A failure of the query parameter `name`.
    pub fn query(name: &str, kind: &str, msg: impl Into<String>) -> Self {
        Self {
            loc: vec!["query".to_owned(), name.to_owned()],
            msg: msg.into(),
            kind: kind.to_owned(),
        }
    }

    /// A failure of the body field `name`.
    pub fn body(name: &str, kind: &str, msg: impl Into<String>) -> Self {
        Self {
            loc: vec!["body".to_owned(), name.to_owned()],
            msg: msg.into(),
            kind: kind.to_owned(),
        }
    }
}

/// A non-empty list of field failures.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    /// Records one failure.
    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// Runs a parse step, keeping its value or recording its failure.
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.0.push(error);
                None
            }
        }
    }

    /// `Ok(value)` when nothing failed, the collected failures otherwise.
    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, FieldErrors> {
        if self.0.is_empty() { Ok(value()) } else { Err(self) }
    }
}

impl From<FieldError> for FieldErrors {
    fn from(error: FieldError) -> Self {
        Self(vec![error])
    }
}
