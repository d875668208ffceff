//! Listing vocabulary: type, sort order, price filter, security and version status,
//! and the parsed catalog query shared by `/v1/skills`, `/v1/agents` and `/v1/search`.

use serde::{Deserialize, Serialize};

use crate::validation::FieldError;

/// Longest accepted search query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// What a listing installs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ListingType {
    /// A folder with a `SKILL.md`.
    Skill,
    /// A Markdown file with frontmatter.
    Agent,
}

impl ListingType {
    /// The wire and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ListingType::Skill => "skill",
            ListingType::Agent => "agent",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "skill" => Some(ListingType::Skill),
            "agent" => Some(ListingType::Agent),
            _ => None,
        }
    }
}

/// Order of a catalog page.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    /// Downloads plus installs, highest first (the default).
    #[default]
    Popular,
    /// First publication, newest first.
    Newest,
    /// Average rating, best first; unrated last.
    Rating,
    /// Cheapest first.
    PriceAsc,
    /// Dearest first.
    PriceDesc,
}

impl SortOrder {
    /// Parses the `sort` query parameter.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "popular" => Some(SortOrder::Popular),
            "newest" => Some(SortOrder::Newest),
            "rating" => Some(SortOrder::Rating),
            "price_asc" => Some(SortOrder::PriceAsc),
            "price_desc" => Some(SortOrder::PriceDesc),
            _ => None,
        }
    }

    /// The `sort` query parameter's value.
    pub fn as_str(self) -> &'static str {
        match self {
            SortOrder::Popular => "popular",
            SortOrder::Newest => "newest",
            SortOrder::Rating => "rating",
            SortOrder::PriceAsc => "price_asc",
            SortOrder::PriceDesc => "price_desc",
        }
    }
}

/// Filter on price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PriceFilter {
    /// `price_cents = 0`.
    Free,
    /// `price_cents > 0`.
    Paid,
}

impl PriceFilter {
    /// Parses the `price` query parameter.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "free" => Some(PriceFilter::Free),
            "paid" => Some(PriceFilter::Paid),
            _ => None,
        }
    }

    /// The `price` query parameter's value.
    pub fn as_str(self) -> &'static str {
        match self {
            PriceFilter::Free => "free",
            PriceFilter::Paid => "paid",
        }
    }
}

/// Verdict of the security scan, as shown on listings. `pending` until a version passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SecurityStatus {
    /// Not scanned yet.
    Pending,
    /// No findings worth a warning.
    Pass,
    /// Published with warnings.
    Warn,
    /// Refused.
    Block,
}

impl SecurityStatus {
    /// The wire and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SecurityStatus::Pending => "pending",
            SecurityStatus::Pass => "pass",
            SecurityStatus::Warn => "warn",
            SecurityStatus::Block => "block",
        }
    }

    /// Parses the wire and database spelling.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "pending" => Some(SecurityStatus::Pending),
            "pass" => Some(SecurityStatus::Pass),
            "warn" => Some(SecurityStatus::Warn),
            "block" => Some(SecurityStatus::Block),
            _ => None,
        }
    }
}

/// Lifecycle of one uploaded version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum VersionStatus {
    /// Created by a PATCH or a first upload, waiting for its archive.
    Pending,
    /// Scanned `pass` or `warn`; immutable from now on.
    Live,
    /// Scanned `block`; never served.
    Blocked,
}

impl VersionStatus {
    /// The database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            VersionStatus::Pending => "pending",
            VersionStatus::Live => "live",
            VersionStatus::Blocked => "blocked",
        }
    }

    /// Parses the database spelling.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "pending" => Some(VersionStatus::Pending),
            "live" => Some(VersionStatus::Live),
            "blocked" => Some(VersionStatus::Blocked),
            _ => None,
        }
    }
}

/// Filters shared by catalog listing and search.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct CatalogFilter {
    /// Only this type.
    pub listing_type: Option<ListingType>,
    /// Only this category slug.
    pub category: Option<String>,
    /// Only free or only paid.
    pub price: Option<PriceFilter>,
}

/// Parses an optional enum-valued query parameter, answering 422 with the allowed values.
pub fn parse_choice<T>(
    name: &str,
    raw: Option<&str>,
    parse: fn(&str) -> Option<T>,
    allowed: &str,
) -> Result<Option<T>, FieldError> {
    match raw.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(value) => parse(value).map(Some).ok_or_else(|| {
            FieldError::query(name, "enum", format!("Input should be one of: {allowed}"))
        }),
    }
}

/// Parses the optional `category` parameter: a lowercase slug of at most 64 characters.
/// Whether the category exists is not checked here (an unknown one matches nothing).
pub fn parse_category(raw: Option<&str>) -> Result<Option<String>, FieldError> {
    match raw.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(value)
            if value.len() <= 64
                && value
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') =>
        {
            Ok(Some(value.to_owned()))
        }
        Some(_) => Err(FieldError::query(
            "category",
            "string_pattern_mismatch",
            "Category must be a lowercase slug of at most 64 characters",
        )),
    }
}

/// Parses the optional search query `q`: at most [`MAX_QUERY_CHARS`] characters.
/// Empty or blank means "no query".
pub fn parse_query(raw: Option<&str>) -> Result<Option<String>, FieldError> {
    match raw.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(value) if value.chars().count() <= MAX_QUERY_CHARS => Ok(Some(value.to_owned())),
        Some(_) => Err(FieldError::query(
            "q",
            "string_too_long",
            format!("String should have at most {MAX_QUERY_CHARS} characters"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_parse_or_explain() {
        assert_eq!(
            parse_choice("sort", Some("rating"), SortOrder::parse, "x"),
            Ok(Some(SortOrder::Rating))
        );
        assert_eq!(parse_choice("sort", Some(""), SortOrder::parse, "x"), Ok(None));
        let err = parse_choice("sort", Some("bar"), SortOrder::parse, "popular, newest")
            .expect_err("bar is not a sort");
        assert_eq!(err.loc, ["query", "sort"]);
        assert!(!err.msg.contains('['));
    }

    #[test]
    fn query_length_is_bounded() {
        assert_eq!(parse_query(Some("  git ")), Ok(Some("git".to_owned())));
        assert_eq!(parse_query(Some("   ")), Ok(None));
        assert!(parse_query(Some(&"é".repeat(200))).is_ok());
        assert!(parse_query(Some(&"a".repeat(201))).is_err());
    }

    #[test]
    fn category_is_a_slug() {
        assert_eq!(parse_category(Some("devops")), Ok(Some("devops".to_owned())));
        assert!(parse_category(Some("Dev Ops")).is_err());
        assert!(parse_category(Some("x;drop")).is_err());
    }
}
