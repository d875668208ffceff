//! Listing slugs (`^[a-z0-9][a-z0-9-]{1,58}[a-z0-9]$`) and display-name slugs
//! (`"John Doe"` → `john-doe`).

use serde::{Deserialize, Serialize};

/// A valid listing slug: 3–60 characters of `a-z`, `0-9` and inner hyphens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

/// Why a string is not a slug.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Slug must be 3 to 60 characters of lowercase letters, digits and inner hyphens")]
pub struct InvalidSlug;

impl Slug {
    /// Parses a listing slug.
    pub fn parse(value: &str) -> Result<Self, InvalidSlug> {
        let bytes = value.as_bytes();
        let edge_ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        let valid = (3..=60).contains(&bytes.len())
            && bytes.first().copied().is_some_and(edge_ok)
            && bytes.last().copied().is_some_and(edge_ok)
            && bytes.iter().all(|&b| edge_ok(b) || b == b'-');
        if valid { Ok(Slug(value.to_owned())) } else { Err(InvalidSlug) }
    }

    /// The slug text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = InvalidSlug;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Slug::parse(&value)
    }
}

impl From<Slug> for String {
    fn from(slug: Slug) -> Self {
        slug.0
    }
}

impl std::fmt::Display for Slug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Derives the base display-name slug: lowercase ASCII letters and digits, every other run
/// of characters folded into one hyphen, trimmed, at most 50 characters. Letters with
/// diacritics lose them where the mapping is obvious; an empty result becomes `"user"`.
/// Collisions are resolved by the store with `-2`, `-3`, ….
pub fn display_name_slug(display_name: &str) -> String {
    let mut slug = String::with_capacity(display_name.len());
    let mut pending_hyphen = false;
    for ch in display_name.chars().flat_map(fold_diacritic) {
        if ch.is_ascii_alphanumeric() {
            if pending_hyphen && !slug.is_empty() {
                slug.push('-');
            }
            pending_hyphen = false;
            slug.push(ch.to_ascii_lowercase());
        } else {
            pending_hyphen = true;
        }
    }
    slug.truncate(50);
    let trimmed = slug.trim_end_matches('-');
    if trimmed.is_empty() { "user".to_owned() } else { trimmed.to_owned() }
}

fn fold_diacritic(ch: char) -> impl Iterator<Item = char> {
    let folded: &str = match ch {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => "a",
        'ç' | 'Ç' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
        'ñ' | 'Ñ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => "o",
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => "u",
        'ý' | 'ÿ' | 'Ý' => "y",
        'ß' => "ss",
        _ => "",
    };
    let own = folded.is_empty().then_some(ch);
    folded.chars().chain(own)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn slugs() {
        for ok in ["abc", "git-helper", "a1b", &"a".repeat(60)] {
            assert!(Slug::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", "-abc", "abc-", "Abc", "a_b", "a b", "", &"a".repeat(61), "ab\u{e9}"] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn display_name_slugs() {
        assert_eq!(display_name_slug("John Doe"), "john-doe");
        assert_eq!(display_name_slug("  Ana  María  "), "ana-maria");
        assert_eq!(display_name_slug("R2-D2!!"), "r2-d2");
        assert_eq!(display_name_slug("???"), "user");
        assert_eq!(display_name_slug("Straße"), "strasse");
    }

    proptest! {
        #[test]
        fn display_name_slug_is_clean(name in ".{0,80}") {
            let slug = display_name_slug(&name);
            prop_assert!(!slug.is_empty() && slug.len() <= 50);
            prop_assert!(slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            prop_assert!(!slug.starts_with('-') && !slug.ends_with('-') && !slug.contains("--"));
        }
    }
}
