//! A search as a tantivy query.
//!
//! Every term is required. A term matches exactly in any ranked field, scored with BM25
//! and that field's weight; the last term also matches as a prefix (the word being
//! typed). A term of five letters or more that the catalog does not know as typed (as a
//! word, or for the last term as the start of one) also matches with one typo (an
//! insertion, deletion, substitution or transposition): a word spelled right is not
//! second-guessed, which keeps a common word from dragging in its neighbours and the
//! cost of matching them. Expanded matches score a constant, higher in a title than
//! elsewhere, so an exact word outranks a guessed one. Filters restrict without scoring.

use ap_domain::listing::{CatalogFilter, PriceFilter};
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, Query, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TokenStream;
use tantivy::{Index, Searcher, Term};

use crate::schema::{self, Fields};

/// Shortest word (in characters) that also matches with one typo.
pub(crate) const TYPO_MIN_CHARS: usize = 5;
/// Shortest last word (in characters) that also matches as a prefix.
const PREFIX_MIN_CHARS: usize = 2;
/// Most words a prefix may stand for and still be looked up word by word: up to this
/// many, the prefix is a union of their postings walked lazily (an intersection skips
/// most of them); beyond it, one automaton over the dictionary fills a set of matches.
const PREFIX_LISTED_MAX: usize = 16;
/// Score of a prefix or typo match in a title, and anywhere else.
const EXPANDED_TITLE: f32 = 2.0;
const EXPANDED_ELSEWHERE: f32 = 0.5;

/// The ranked fields and their weights.
fn weighted(fields: &Fields) -> [(Field, f32); 5] {
    [
        (fields.title, 4.0),
        (fields.category_words, 2.0),
        (fields.description, 1.5),
        (fields.author, 1.0),
        (fields.long_description, 0.5),
    ]
}

/// The words of `terms` as the index analyzed them.
fn words(index: &Index, terms: &[String]) -> Vec<String> {
    let mut analyzer = index.tokenizers().get(schema::ANALYZER).unwrap_or_else(schema::analyzer);
    let mut words: Vec<String> = Vec::new();
    for term in terms {
        let mut stream = analyzer.token_stream(term);
        while let Some(token) = stream.next() {
            if !words.contains(&token.text) {
                words.push(token.text.clone());
            }
        }
    }
    words
}

fn boxed(query: impl Query) -> Box<dyn Query> {
    Box::new(query)
}

/// A filter: restricts, scores nothing.
fn filter(field: Field, value: &str) -> (Occur, Box<dyn Query>) {
    let term = TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic);
    (Occur::Must, boxed(ConstScoreQuery::new(boxed(term), 0.0)))
}

/// Whether some indexed word of `field` is `word` or, for a prefix, starts with it.
fn known(searcher: &Searcher, field: Field, word: &str, prefix: bool) -> bool {
    searcher.segment_readers().iter().any(|segment| {
        let Ok(inverted) = segment.inverted_index(field) else { return false };
        if !prefix {
            return inverted.terms().get(word).ok().flatten().is_some();
        }
        let Ok(mut stream) = inverted.terms().range().ge(word).into_stream() else {
            return false;
        };
        stream.advance() && stream.key().starts_with(word.as_bytes())
    })
}

/// The indexed words of `field` that start with `prefix` (the prefix itself included), or
/// `None` when there are more than [`PREFIX_LISTED_MAX`].
fn prefixed(searcher: &Searcher, field: Field, prefix: &str) -> Option<Vec<String>> {
    let mut found: Vec<String> = Vec::new();
    for segment in searcher.segment_readers() {
        let Ok(inverted) = segment.inverted_index(field) else { continue };
        let mut stream = inverted.terms().range().ge(prefix).into_stream().ok()?;
        while stream.advance() {
            if !stream.key().starts_with(prefix.as_bytes()) {
                break;
            }
            let word = std::str::from_utf8(stream.key()).ok()?;
            if !found.iter().any(|w| w == word) {
                if found.len() == PREFIX_LISTED_MAX {
                    return None;
                }
                found.push(word.to_owned());
            }
        }
    }
    Some(found)
}

/// The clause of one word.
fn word_clause(searcher: &Searcher, fields: &Fields, word: &str, last: bool) -> Box<dyn Query> {
    let mut any: Vec<(Occur, Box<dyn Query>)> = weighted(fields)
        .into_iter()
        .map(|(field, weight)| {
            let exact =
                TermQuery::new(Term::from_field_text(field, word), IndexRecordOption::WithFreqs);
            (Occur::Should, boxed(BoostQuery::new(boxed(exact), weight)))
        })
        .collect();
    let chars = word.chars().count();
    let prefix = last && chars >= PREFIX_MIN_CHARS;
    let typos = u8::from(chars >= TYPO_MIN_CHARS && !known(searcher, fields.words, word, prefix));
    if prefix || typos > 0 {
        for (field, score) in [(fields.title, EXPANDED_TITLE), (fields.words, EXPANDED_ELSEWHERE)] {
            let term = Term::from_field_text(field, word);
            let expanded = match (prefix, typos) {
                // A prefix standing for a few words: those words, looked up lazily.
                (true, 0) => match prefixed(searcher, field, word) {
                    Some(words) if words.is_empty() => continue,
                    Some(words) => {
                        let each = words.iter().map(|w| {
                            let term = Term::from_field_text(field, w);
                            (Occur::Should, boxed(TermQuery::new(term, IndexRecordOption::Basic)))
                        });
                        boxed(BooleanQuery::new(each.collect()))
                    }
                    None => boxed(FuzzyTermQuery::new_prefix(term, 0, true)),
                },
                (true, _) => boxed(FuzzyTermQuery::new_prefix(term, typos, true)),
                (false, _) => boxed(FuzzyTermQuery::new(term, typos, true)),
            };
            any.push((Occur::Should, boxed(ConstScoreQuery::new(expanded, score))));
        }
    }
    boxed(BooleanQuery::new(any))
}

/// The query of `terms` under `filter`; `None` when no term has a word to look for.
pub(crate) fn build(
    index: &Index,
    searcher: &Searcher,
    fields: &Fields,
    terms: &[String],
    catalog_filter: &CatalogFilter,
) -> Option<Box<dyn Query>> {
    let words = words(index, terms);
    if words.is_empty() {
        return None;
    }
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = words
        .iter()
        .enumerate()
        .map(|(i, word)| (Occur::Must, word_clause(searcher, fields, word, i + 1 == words.len())))
        .collect();
    if let Some(kind) = catalog_filter.listing_type {
        clauses.push(filter(fields.listing_type, kind.as_str()));
    }
    if let Some(category) = &catalog_filter.category {
        clauses.push(filter(fields.category, category));
    }
    if let Some(price) = catalog_filter.price {
        clauses.push(filter(fields.price, schema::price_term(price == PriceFilter::Free)));
    }
    Some(boxed(BooleanQuery::new(clauses)))
}
