//! Pagination: `limit` (1–100, default 20) and `offset` (0–[`MAX_OFFSET`], default 0),
//! answered as `{"items", "total", "limit", "offset"}`.

use serde::{Deserialize, Serialize};

use crate::validation::{FieldError, FieldErrors};

/// Default page size.
pub const DEFAULT_LIMIT: i64 = 20;
/// Largest page size.
pub const MAX_LIMIT: i64 = 100;
/// Deepest allowed offset. Any offset costs a walk over every skipped index entry, so the
/// cap bounds the cost of the deepest page; like most catalogs and search engines, the
/// first 1,000 results are browsable and filters or search narrow the rest.
pub const MAX_OFFSET: i64 = 1_000;
/// Search ranks this many results per query: enough for every allowed page.
pub const MAX_SEARCH_WINDOW: i64 = MAX_OFFSET + MAX_LIMIT;

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageRequest {
    /// Items per page.
    pub limit: i64,
    /// Items skipped.
    pub offset: i64,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self { limit: DEFAULT_LIMIT, offset: 0 }
    }
}

impl PageRequest {
    /// Parses the raw query values (as clients send them: strings).
    pub fn parse(limit: Option<&str>, offset: Option<&str>) -> Result<Self, FieldErrors> {
        Self::parse_with(limit, offset, DEFAULT_LIMIT, MAX_LIMIT)
    }

    /// The same with another default and largest `limit` (reviews: 10 and 50).
    pub fn parse_with(
        limit: Option<&str>,
        offset: Option<&str>,
        default_limit: i64,
        max_limit: i64,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let limit = errors.check(parse_int("limit", limit, default_limit, 1, max_limit));
        let offset = errors.check(parse_int("offset", offset, 0, 0, MAX_OFFSET));
        errors
            .finish(|| Self { limit: limit.unwrap_or(default_limit), offset: offset.unwrap_or(0) })
    }
}

/// Parses an integer query parameter within `min..=max`, with a default when absent.
pub fn parse_int(
    name: &str,
    raw: Option<&str>,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, FieldError> {
    let Some(raw) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(default);
    };
    let value: i64 = raw.parse().map_err(|_| {
        FieldError::query(
            name,
            "int_parsing",
            "Input should be a valid integer, unable to parse string as an integer",
        )
    })?;
    if value < min {
        return Err(FieldError::query(
            name,
            "greater_than_equal",
            format!("Input should be greater than or equal to {min}"),
        ));
    }
    if value > max {
        return Err(FieldError::query(
            name,
            "less_than_equal",
            format!("Input should be less than or equal to {max}"),
        ));
    }
    Ok(value)
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// How many items the whole list holds.
    pub total: i64,
    /// The page size asked for.
    pub limit: i64,
    /// The offset asked for.
    pub offset: i64,
}

impl<T> Page<T> {
    /// Builds a page answer for a request.
    pub fn new(items: Vec<T>, total: i64, request: PageRequest) -> Self {
        Self { items, total, limit: request.limit, offset: request.offset }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn defaults_and_bounds() {
        assert_eq!(PageRequest::parse(None, None), Ok(PageRequest::default()));
        assert_eq!(
            PageRequest::parse(Some("100"), Some("1000")),
            Ok(PageRequest { limit: 100, offset: 1_000 })
        );
        for (limit, offset) in [("0", "0"), ("101", "0"), ("1", "-1"), ("1", "1001"), ("x", "0")] {
            assert!(PageRequest::parse(Some(limit), Some(offset)).is_err(), "{limit} {offset}");
        }
    }

    #[test]
    fn both_failures_are_reported() {
        let errors = PageRequest::parse(Some("0"), Some("-1")).expect_err("both out of range");
        let locs: Vec<_> = errors.0.iter().map(|e| e.loc[1].as_str()).collect();
        assert_eq!(locs, ["limit", "offset"]);
    }

    proptest! {
        #[test]
        fn any_string_parses_or_fails_cleanly(limit in ".{0,12}", offset in ".{0,12}") {
            if let Ok(page) = PageRequest::parse(Some(&limit), Some(&offset)) {
                prop_assert!((1..=MAX_LIMIT).contains(&page.limit));
                prop_assert!((0..=MAX_OFFSET).contains(&page.offset));
            }
        }
    }
}
