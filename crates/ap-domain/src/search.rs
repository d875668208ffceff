//! Turning a user's search text into safe search terms.
//!
//! Search input is never handed to a full-text engine as syntax: it is cut into terms of
//! letters and digits only (so quotes, `*`, `NEAR(`, `-` and the like cannot form
//! operators), lowercased, de-duplicated and capped. The store then quotes each term and
//! matches it as a prefix, so `notes-web-54321` searches for `notes`, `web` and `54321`.

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
