//! Abuse reports: why a listing is reported (one of a fixed list) and the reporter's
//! optional note, up to 2,000 characters with hidden characters stripped first.

use serde_json::{Map, Value};

use crate::reviews::visible_text;
use crate::validation::{FieldError, FieldErrors};

/// The reasons a listing can be reported for.
pub const REASONS: [&str; 7] =
    ["malware", "prompt_injection", "credential_theft", "copyright", "spam", "misleading", "other"];

/// Longest note, in characters (after stripping).
pub const MAX_TEXT_CHARS: usize = 2_000;

/// A report as submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportInput {
    /// One of [`REASONS`].
    pub reason: String,
    /// The note, stripped of hidden characters and surrounding blanks; `None` when empty.
    pub text: Option<String>,
}

/// Parses `{reason, text?}`: unknown fields, a reason outside the list and a note over
/// the limit are refused, all at once.
pub fn parse(body: &Map<String, Value>) -> Result<ReportInput, FieldErrors> {
    let mut errors = FieldErrors::default();
    for name in body.keys().filter(|k| !matches!(k.as_str(), "reason" | "text")) {
        errors.push(FieldError::body(name, "extra_forbidden", "Extra inputs are not permitted"));
    }
    let reason = match body.get("reason") {
        None | Some(Value::Null) => {
            errors.push(FieldError::body("reason", "missing", "Field required"));
            None
        }
        Some(Value::String(r)) if REASONS.contains(&r.as_str()) => Some(r.clone()),
        Some(_) => {
            errors.push(FieldError::body(
                "reason",
                "enum",
                format!("Input should be one of: {}", REASONS.join(", ")),
            ));
            None
        }
    };
    let text = visible_text(&mut errors, body, "text", MAX_TEXT_CHARS);
    errors.finish(|| ReportInput { reason: reason.unwrap_or_default(), text })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(value: Value) -> Map<String, Value> {
        value.as_object().cloned().expect("object")
    }

    #[test]
    fn reasons_come_from_the_list_and_notes_are_bounded() {
        let ok = parse(&body(json!({"reason": "malware", "text": " steals\u{200B} keys "})));
        assert_eq!(
            ok,
            Ok(ReportInput { reason: "malware".to_owned(), text: Some("steals keys".to_owned()) })
        );
        assert_eq!(parse(&body(json!({"reason": "spam"}))).map(|r| r.text), Ok(None));
        for bad in [
            json!({}),
            json!({"reason": "boring"}),
            json!({"reason": 3}),
            json!({"reason": "spam", "text": 5}),
            json!({"reason": "spam", "listing": "x"}),
            json!({"reason": "spam", "text": "x".repeat(MAX_TEXT_CHARS + 1)}),
        ] {
            assert!(parse(&body(bad.clone())).is_err(), "{bad}");
        }
    }
}
