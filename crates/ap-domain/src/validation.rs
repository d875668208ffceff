//! Field-level validation failures, reported as the contract's 422 list:
//! `{"detail": [{"loc": ["query", "limit"], "msg": "...", "type": "..."}]}`.

use serde::{Deserialize, Serialize};

/// One failed field: where it is, what is wrong, and a stable error type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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

/// A string body field: `Ok(None)` for null, trimmed text otherwise, an error for other types.
pub fn body_text(name: &str, value: &serde_json::Value) -> Result<Option<String>, FieldError> {
    match value {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::String(s) => Ok(Some(s.trim().to_owned())),
        _ => Err(FieldError::body(name, "string_type", "Input should be a valid string")),
    }
}

/// A text body field of `min..=max` characters (null counts as missing).
pub fn body_text_len(
    name: &str,
    value: &serde_json::Value,
    min: usize,
    max: usize,
) -> Result<String, FieldError> {
    let text = body_text(name, value)?.unwrap_or_default();
    let chars = text.chars().count();
    if chars < min {
        return Err(FieldError::body(
            name,
            if chars == 0 { "missing" } else { "string_too_short" },
            format!("String should have at least {min} characters"),
        ));
    }
    if chars > max {
        return Err(FieldError::body(
            name,
            "string_too_long",
            format!("String should have at most {max} characters"),
        ));
    }
    Ok(text)
}

/// An integer body field (a JSON number without fraction).
pub fn body_int(name: &str, value: &serde_json::Value) -> Result<i64, FieldError> {
    value
        .as_i64()
        .ok_or_else(|| FieldError::body(name, "int_type", "Input should be a valid integer"))
}
