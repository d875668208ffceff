//! Turning a user's search text into safe search terms, and what search knows of a
//! listing.
//!
//! Search input is never handed to a search engine as syntax: it is cut into terms of
//! letters and digits only (so quotes, `*`, `NEAR(`, `-` and the like cannot form
//! operators), lowercased, de-duplicated and capped. The index then builds one term query
//! per word, so `notes-web-54321` searches for `notes`, `web` and `54321`.

use crate::listing::ListingType;

/// What the search index holds of one live listing (read from the store, indexed by
/// `ap-search`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchableListing {
    /// The listing's id.
    pub id: String,
    /// Skill or agent.
    pub listing_type: ListingType,
    /// Category slug.
    pub category: String,
    /// Price in cents (0: free).
    pub price_cents: i64,
    /// Title.
    pub title: String,
    /// Short description.
    pub description: String,
    /// Long description.
    pub long_description: String,
    /// The author's display name (empty when unset).
    pub author: String,
    /// Downloads plus installs: breaks ties between equal scores.
    pub popularity: i64,
}

/// At most this many terms are used from one query.
pub const MAX_TERMS: usize = 8;
/// Terms longer than this are cut (no word in a listing is that long).
pub const MAX_TERM_CHARS: usize = 40;

/// The search terms of a query, in order of first appearance.
pub fn terms(query: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for word in query.split(|c: char| !c.is_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        // Lowercasing may add marks that are not letters ('İ' becomes 'i' and U+0307).
        let term: String = word
            .chars()
            .take(MAX_TERM_CHARS)
            .flat_map(char::to_lowercase)
            .filter(|c| c.is_alphanumeric())
            .collect();
        if !term.is_empty() && !terms.contains(&term) {
            terms.push(term);
        }
        if terms.len() == MAX_TERMS {
            break;
        }
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn operators_are_not_terms() {
        assert_eq!(terms("notes-web-54321"), ["notes", "web", "54321"]);
        assert_eq!(terms("\"git\" NEAR(a b) *"), ["git", "near", "a", "b"]);
        assert_eq!(terms("Git git GIT"), ["git"]);
        assert!(terms("\"*-:()^").is_empty());
        assert_eq!(terms("Café résumé"), ["café", "résumé"]);
        assert_eq!(terms("İstanbul"), ["istanbul"]);
    }

    proptest! {
        #[test]
        fn terms_are_alphanumeric(q in ".{0,300}") {
            let ts = terms(&q);
            prop_assert!(ts.len() <= MAX_TERMS);
            for t in ts {
                prop_assert!(!t.is_empty());
                prop_assert!(t.chars().all(char::is_alphanumeric));
            }
        }
    }
}
