//! Review rules: ratings 1–5, text up to 5,000 characters with hidden characters
//! (bidirectional controls, zero-width characters) stripped before anything else looks
//! at it.

use serde_json::{Map, Value};

use crate::validation::{FieldError, FieldErrors, body_text};

/// Longest review text, in characters (after stripping).
pub const MAX_TEXT_CHARS: usize = 5_000;

/// Characters that change how text displays without being seen: bidirectional controls
/// and zero-width characters.
pub fn is_hidden(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{061C}'
            | '\u{FEFF}'
    )
}

/// The optional text field `name` of `body`, stripped of hidden characters and then of
/// surrounding blanks (`None` when nothing is left), at most `max` characters; a failure
/// goes to `errors`. Reviews and abuse reports read their text this way.
pub fn visible_text(
    errors: &mut FieldErrors,
    body: &Map<String, Value>,
    name: &str,
    max: usize,
) -> Option<String> {
    let text = errors
        .check(body_text(name, body.get(name).unwrap_or(&Value::Null)))
        .flatten()
        .map(|t| t.chars().filter(|c| !is_hidden(*c)).collect::<String>().trim().to_owned())
        .filter(|t| !t.is_empty());
    if text.as_ref().is_some_and(|t| t.chars().count() > max) {
        errors.push(FieldError::body(
            name,
            "string_too_long",
            format!("String should have at most {max} characters"),
        ));
    }
    text
}

/// A review as submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewInput {
    /// 1–5.
    pub rating: i32,
    /// The text, stripped of hidden characters and surrounding blanks; `None` when empty.
    pub text: Option<String>,
}

/// Parses `{rating, text?}`: unknown fields, a rating outside 1–5 (or not an integer) and
/// text over the limit are refused, all at once.
pub fn parse(body: &Map<String, Value>) -> Result<ReviewInput, FieldErrors> {
    let mut errors = FieldErrors::default();
    for name in body.keys().filter(|k| !matches!(k.as_str(), "rating" | "text")) {
        errors.push(FieldError::body(name, "extra_forbidden", "Extra inputs are not permitted"));
    }
    let rating = match body.get("rating") {
        None | Some(Value::Null) => {
            errors.push(FieldError::body("rating", "missing", "Field required"));
            None
        }
        Some(value) => match value.as_i64() {
            Some(r @ 1..=5) => i32::try_from(r).ok(),
            Some(_) => {
                errors.push(FieldError::body(
                    "rating",
                    "range",
                    "Input should be an integer from 1 to 5",
                ));
                None
            }
            None => {
                errors.push(FieldError::body(
                    "rating",
                    "int_type",
                    "Input should be a valid integer",
                ));
                None
            }
        },
    };
    let text = visible_text(&mut errors, body, "text", MAX_TEXT_CHARS);
    errors.finish(|| ReviewInput { rating: rating.unwrap_or_default(), text })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(value: Value) -> Map<String, Value> {
        value.as_object().cloned().expect("object")
    }

    #[test]
    fn ratings_and_text_are_checked_and_hidden_characters_stripped() {
        let ok = parse(&body(json!({"rating": 4, "text": " Gr\u{200B}eat \u{202E}tool "})));
        assert_eq!(ok, Ok(ReviewInput { rating: 4, text: Some("Great tool".to_owned()) }));
        assert_eq!(parse(&body(json!({"rating": 5}))).map(|r| r.text), Ok(None));
        for bad in [
            json!({"rating": 0}),
            json!({"rating": 6}),
            json!({"rating": "5"}),
            json!({}),
            json!({"rating": 3, "stars": 1}),
        ] {
            assert!(parse(&body(bad.clone())).is_err(), "{bad}");
        }
        let long = "x".repeat(MAX_TEXT_CHARS + 1);
        assert!(parse(&body(json!({"rating": 3, "text": long}))).is_err());
        let hidden_padding = format!("{}{}", "x".repeat(MAX_TEXT_CHARS), "\u{200B}".repeat(10));
        assert!(
            parse(&body(json!({"rating": 3, "text": hidden_padding}))).is_ok(),
            "stripped first"
        );
    }
}
