//! What sellers send when they publish: the fields of `POST /v1/skills` and
//! `PATCH /v1/skills/{slug}`, checked against the contract's rules (docs/API.md, Publishing).
//!
//! Bodies arrive as JSON objects and are checked field by field, so every bad field is
//! reported at once in the 422 list and unknown fields are refused. Whether a category
//! exists is the caller's knowledge, passed in as a predicate.

use serde_json::{Map, Value};

use crate::listing::ListingType;
use crate::slug::Slug;
use crate::validation::{FieldError, FieldErrors, body_int, body_text, body_text_len};
use crate::version::{Bump, Version};

/// Title length in characters.
pub const TITLE_CHARS: (usize, usize) = (3, 100);
/// Description length in characters.
pub const DESCRIPTION_CHARS: (usize, usize) = (10, 2000);
/// Longest long description (Markdown), characters.
pub const LONG_DESCRIPTION_MAX_CHARS: usize = 20_000;
/// Longest changelog, characters.
pub const CHANGELOG_MAX_CHARS: usize = 5_000;
/// Lowest price of a paid listing, cents.
pub const MIN_PAID_CENTS: i64 = 300;
/// Highest price, cents.
pub const MAX_PRICE_CENTS: i64 = 100_000;

/// A new listing, as `POST /v1/skills` asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewListingFields {
    /// Unique slug.
    pub slug: Slug,
    /// `skill` or `agent`.
    pub listing_type: ListingType,
    /// 3–100 characters.
    pub title: String,
    /// 10–2000 characters.
    pub description: String,
    /// Markdown, at most 20,000 characters.
    pub long_description: String,
    /// A known category slug.
    pub category: String,
    /// 0 (free) or 300–100,000.
    pub price_cents: i64,
}

/// Which version a `PATCH` creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionTarget {
    /// The current version bumped.
    Bump(Bump),
    /// Exactly this version (greater than the current one).
    Exact(Version),
}

/// What a `PATCH /v1/skills/{slug}` changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingChanges {
    /// The new pending version.
    pub target: VersionTarget,
    /// What changed in it.
    pub changelog: Option<String>,
    /// New title.
    pub title: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New long description.
    pub long_description: Option<String>,
    /// New category.
    pub category: Option<String>,
    /// New price.
    pub price_cents: Option<i64>,
}

impl ListingChanges {
    /// The listing text this change sets (for the text scan).
    pub fn texts(&self) -> Vec<(&'static str, &str)> {
        [
            ("title", self.title.as_deref()),
            ("description", self.description.as_deref()),
            ("long_description", self.long_description.as_deref()),
            ("changelog", self.changelog.as_deref()),
        ]
        .into_iter()
        .filter_map(|(name, text)| text.map(|t| (name, t)))
        .collect()
    }
}

impl NewListingFields {
    /// The listing text (for the text scan).
    pub fn texts(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("title", self.title.as_str()),
            ("description", self.description.as_str()),
            ("long_description", self.long_description.as_str()),
        ]
    }
}

/// The `slug` of a body, when it is a string (checked before anything else: an existing
/// slug answers 409 whatever the other fields hold).
pub fn requested_slug(body: &Map<String, Value>) -> Option<&str> {
    body.get("slug").and_then(Value::as_str).map(str::trim)
}

fn title(value: &Value) -> Result<String, FieldError> {
    body_text_len("title", value, TITLE_CHARS.0, TITLE_CHARS.1)
}

fn description(value: &Value) -> Result<String, FieldError> {
    body_text_len("description", value, DESCRIPTION_CHARS.0, DESCRIPTION_CHARS.1)
}

fn long_description(value: &Value) -> Result<String, FieldError> {
    body_text_len("long_description", value, 0, LONG_DESCRIPTION_MAX_CHARS)
}

fn category(value: &Value, known: &dyn Fn(&str) -> bool) -> Result<String, FieldError> {
    let category = body_text("category", value)?.unwrap_or_default();
    if category.is_empty() {
        return Err(FieldError::body("category", "missing", "Field required"));
    }
    if !known(&category) {
        return Err(FieldError::body("category", "enum", "Unknown category; see /v1/categories"));
    }
    Ok(category)
}

/// A price: 0 or 300–100,000 cents.
pub fn price(value: &Value) -> Result<i64, FieldError> {
    let cents = body_int("price_cents", value)?;
    if cents == 0 || (MIN_PAID_CENTS..=MAX_PRICE_CENTS).contains(&cents) {
        Ok(cents)
    } else {
        Err(FieldError::body(
            "price_cents",
            "price_range",
            format!(
                "Price should be 0 (free) or between {MIN_PAID_CENTS} and {MAX_PRICE_CENTS} cents"
            ),
        ))
    }
}

fn unknown(name: &str) -> FieldError {
    FieldError::body(name, "extra_forbidden", "Extra inputs are not permitted")
}

/// Checks a `POST` body. `forced` is the type of the route (`/v1/agents` forces `agent`);
/// otherwise `type` is read, `skill` when absent.
pub fn parse_new_listing(
    body: &Map<String, Value>,
    forced: Option<ListingType>,
    known_category: &dyn Fn(&str) -> bool,
) -> Result<NewListingFields, FieldErrors> {
    let mut errors = FieldErrors::default();
    let null = Value::Null;
    let field = |name: &str| body.get(name).unwrap_or(&null);
    for name in body.keys() {
        if !matches!(
            name.as_str(),
            "slug"
                | "type"
                | "title"
                | "description"
                | "long_description"
                | "category"
                | "price_cents"
        ) {
            errors.push(unknown(name));
        }
    }
    let slug = errors.check(body_text("slug", field("slug")).and_then(|raw| {
        Slug::parse(raw.as_deref().unwrap_or(""))
            .map_err(|e| FieldError::body("slug", "string_pattern_mismatch", e.to_string()))
    }));
    let listing_type = match forced {
        Some(kind) => Some(kind),
        None => errors.check(body_text("type", field("type")).and_then(|raw| match raw {
            None => Ok(ListingType::Skill),
            Some(raw) => ListingType::parse(&raw).ok_or_else(|| {
                FieldError::body("type", "enum", "Input should be one of: skill, agent")
            }),
        })),
    };
    let title = errors.check(title(field("title")));
    let description = errors.check(description(field("description")));
    let long_description = errors.check(long_description(field("long_description")));
    let category = errors.check(category(field("category"), known_category));
    let price_cents = errors.check(match field("price_cents") {
        Value::Null => Ok(0),
        value => price(value),
    });
    if !errors.0.is_empty() {
        return Err(errors);
    }
    match (slug, listing_type, title, description, long_description, category, price_cents) {
        (
            Some(slug),
            Some(listing_type),
            Some(title),
            Some(description),
            Some(long_description),
            Some(category),
            Some(price_cents),
        ) => Ok(NewListingFields {
            slug,
            listing_type,
            title,
            description,
            long_description,
            category,
            price_cents,
        }),
        _ => Err(errors),
    }
}

/// Checks a `PATCH` body: `bump` or `version` (exactly one), and optional listing fields.
pub fn parse_changes(
    body: &Map<String, Value>,
    known_category: &dyn Fn(&str) -> bool,
) -> Result<ListingChanges, FieldErrors> {
    let mut errors = FieldErrors::default();
    let mut changes = ListingChanges {
        target: VersionTarget::Bump(Bump::Patch),
        changelog: None,
        title: None,
        description: None,
        long_description: None,
        category: None,
        price_cents: None,
    };
    let mut target = None;
    for (name, value) in body {
        if value.is_null() {
            continue;
        }
        match name.as_str() {
            "bump" => {
                let bump = body_text(name, value).and_then(|raw| {
                    Bump::parse(raw.as_deref().unwrap_or("")).ok_or_else(|| {
                        FieldError::body(
                            name,
                            "enum",
                            "Input should be one of: patch, minor, major",
                        )
                    })
                });
                if let Some(bump) = errors.check(bump) {
                    if target.is_some() {
                        errors.push(both());
                    }
                    target = Some(VersionTarget::Bump(bump));
                }
            }
            "version" => {
                let version = body_text(name, value).and_then(|raw| {
                    Version::parse(raw.as_deref().unwrap_or(""))
                        .map_err(|e| FieldError::body(name, "version_format", e.to_string()))
                });
                if let Some(version) = errors.check(version) {
                    if target.is_some() {
                        errors.push(both());
                    }
                    target = Some(VersionTarget::Exact(version));
                }
            }
            "changelog" => {
                changes.changelog = errors
                    .check(body_text_len(name, value, 0, CHANGELOG_MAX_CHARS))
                    .filter(|c| !c.is_empty());
            }
            "title" => changes.title = errors.check(title(value)),
            "description" => changes.description = errors.check(description(value)),
            "long_description" => changes.long_description = errors.check(long_description(value)),
            "category" => changes.category = errors.check(category(value, known_category)),
            "price_cents" => changes.price_cents = errors.check(price(value)),
            _ => errors.push(unknown(name)),
        }
    }
    match target {
        Some(target) => changes.target = target,
        None if errors.0.is_empty() => errors.push(FieldError::body(
            "bump",
            "missing",
            "Give bump (patch, minor or major) or version (X.Y.Z)",
        )),
        None => {}
    }
    errors.finish(|| changes)
}

fn both() -> FieldError {
    FieldError::body("version", "conflict", "Give either bump or version, not both")
}

/// The version a `PATCH` creates: a bump of the greatest existing version (`1.0.0` when
/// there is none), or an exact version greater than the current live one.
pub fn next_version(
    target: VersionTarget,
    greatest: Option<Version>,
    current_live: Option<Version>,
) -> Result<Version, FieldError> {
    match target {
        VersionTarget::Bump(bump) => match greatest {
            None => Ok(Version::INITIAL),
            Some(v) => v.bump(bump).ok_or_else(|| {
                FieldError::body("bump", "version_overflow", "The version cannot be bumped further")
            }),
        },
        VersionTarget::Exact(version) => match current_live {
            Some(current) if version <= current => Err(FieldError::body(
                "version",
                "version_not_greater",
                format!("Version should be greater than the current version {current}"),
            )),
            _ => Ok(version),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn known(category: &str) -> bool {
        category == "development"
    }

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().expect("object")
    }

    fn locs(errors: &FieldErrors) -> Vec<&str> {
        errors.0.iter().map(|e| e.loc[1].as_str()).collect()
    }

    #[test]
    fn a_complete_post_body_parses() {
        let body = map(json!({
            "slug": "git-helper", "title": "Git helper", "description": "Helps with git daily.",
            "category": "development", "type": "agent", "price_cents": 0
        }));
        let fields = parse_new_listing(&body, None, &known).expect("valid");
        assert_eq!(fields.slug.as_str(), "git-helper");
        assert_eq!(fields.listing_type, ListingType::Agent);
        assert_eq!(fields.long_description, "");
        let forced = parse_new_listing(&body, Some(ListingType::Skill), &known).expect("valid");
        assert_eq!(forced.listing_type, ListingType::Skill);
    }

    #[test]
    fn every_bad_post_field_is_reported() {
        let body = map(json!({
            "slug": "-Bad", "title": "ab", "description": "short", "category": "cooking",
            "type": "plugin", "price_cents": 150, "colour": "red"
        }));
        let errors = parse_new_listing(&body, None, &known).expect_err("invalid");
        let mut found = locs(&errors);
        found.sort_unstable();
        assert_eq!(
            found,
            ["category", "colour", "description", "price_cents", "slug", "title", "type"]
        );
        assert!(errors.0.iter().all(|e| !e.msg.contains('[')));
    }

    #[test]
    fn prices_are_free_or_in_range() {
        for ok in [0, 300, 4_999, 100_000] {
            assert_eq!(price(&json!(ok)), Ok(ok));
        }
        for bad in [json!(-1), json!(1), json!(299), json!(100_001), json!(4.5), json!("500")] {
            assert!(price(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn patch_needs_exactly_one_version_request() {
        let bump = parse_changes(&map(json!({"bump": "MINOR"})), &known).expect("valid");
        assert_eq!(bump.target, VersionTarget::Bump(Bump::Minor));
        let exact = parse_changes(&map(json!({"version": "2.0.0", "title": "New title"})), &known)
            .expect("valid");
        assert_eq!(exact.target, VersionTarget::Exact(Version { major: 2, minor: 0, patch: 0 }));
        assert_eq!(exact.title.as_deref(), Some("New title"));
        for bad in [
            json!({}),
            json!({"bump": "huge"}),
            json!({"version": "1.0"}),
            json!({"bump": "patch", "version": "2.0.0"}),
            json!({"bump": "patch", "owner_id": "x"}),
        ] {
            assert!(parse_changes(&map(bad.clone()), &known).is_err(), "{bad}");
        }
    }

    #[test]
    fn next_versions() {
        let v = |s: &str| Version::parse(s).expect("version");
        assert_eq!(next_version(VersionTarget::Bump(Bump::Patch), None, None), Ok(v("1.0.0")));
        assert_eq!(
            next_version(VersionTarget::Bump(Bump::Patch), Some(v("1.0.3")), Some(v("1.0.2"))),
            Ok(v("1.0.4"))
        );
        assert_eq!(
            next_version(VersionTarget::Exact(v("1.1.0")), Some(v("1.0.0")), Some(v("1.0.0"))),
            Ok(v("1.1.0"))
        );
        assert!(
            next_version(VersionTarget::Exact(v("1.0.0")), Some(v("1.0.0")), Some(v("1.0.0")))
                .is_err()
        );
    }
}
