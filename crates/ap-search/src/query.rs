//! A search as two tantivy queries: one that ranks and one that counts.
//!
//! Every term is required. A term matches exactly in any ranked field, scored with BM25
//! and that field's weight; the last term also matches as a prefix (the word being
//! typed). A term of five letters or more that the catalog does not know as typed (as a
//! word, or for the last term as the start of one) also matches with one typo (an
//! insertion, deletion, substitution or transposition): a word spelled right is not
//! second-guessed, which keeps a common word from dragging in its neighbours and the
//! cost of matching them. Filters restrict without scoring.
//!
//! The ranking query is built so tantivy can skip what cannot reach the page: a prefix
//! standing for a few words is those words, each scored with BM25 at [`PREFIX_WEIGHT`] of
//! its field's weight, so a one-word query without filters is a union of term scorers,
//! which block-max WAND prunes. A prefix standing for many words, and a guessed word,
//! match through an automaton and score a constant, higher in a title than elsewhere,
//! below an exact word; a one-word query with such a match scores every match (the
//! constant is not a term scorer). Several words, or filters, rank through
//! [`ScoredBy`]. The counting query matches the same listings through the `words` field
//! alone and scores nothing: the total costs a walk of a few postings, not the scoring of
//! every match.

use ap_domain::listing::{CatalogFilter, PriceFilter};
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, Query, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TokenStream;
use tantivy::{Index, Searcher, Term};

use crate::schema::{self, Fields};
use crate::scored::ScoredBy;

/// Shortest word (in characters) that also matches with one typo.
pub(crate) const TYPO_MIN_CHARS: usize = 5;
/// Shortest last word (in characters) that also matches as a prefix.
const PREFIX_MIN_CHARS: usize = 2;
/// Most words a prefix may stand for and still be looked up word by word: up to this
/// many, the prefix is those words, each a scored term (pruned with the rest of a
/// one-word union, looked up at a match otherwise); beyond it, one automaton over the
/// dictionary fills a set of matches.
const PREFIX_LISTED_MAX: usize = 16;
/// Share of a field's weight that a word standing for a listed prefix scores with.
const PREFIX_WEIGHT: f32 = 0.5;
/// Score of a match through an automaton (a long prefix or a typo) in a title, and
/// anywhere else.
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

/// A filter: a term of the unscored matching query, so it restricts and scores nothing.
fn filter(field: Field, value: &str) -> (Occur, Box<dyn Query>) {
    let term = TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic);
    (Occur::Must, boxed(term))
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

/// The indexed words of `field` that start with `prefix` and are longer, or `None` when
/// there are more than [`PREFIX_LISTED_MAX`].
fn prefixed(searcher: &Searcher, field: Field, prefix: &str) -> Option<Vec<String>> {
    let mut found: Vec<String> = Vec::new();
    for segment in searcher.segment_readers() {
        let Ok(inverted) = segment.inverted_index(field) else { continue };
        let mut stream = inverted.terms().range().gt(prefix).into_stream().ok()?;
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

/// What one word of a search matches besides itself.
enum Expansion {
    /// Nothing: the word as typed.
    None,
    /// The longer words its prefix stands for.
    Listed(Vec<String>),
    /// Words an automaton finds: a prefix (with `typos`) or the word with `typos`.
    Automaton { prefix: bool, typos: u8 },
}

fn expansion(searcher: &Searcher, fields: &Fields, word: &str, last: bool) -> Expansion {
    let chars = word.chars().count();
    let prefix = last && chars >= PREFIX_MIN_CHARS;
    let typos = u8::from(chars >= TYPO_MIN_CHARS && !known(searcher, fields.words, word, prefix));
    match (prefix, typos) {
        (false, 0) => Expansion::None,
        (true, 0) => match prefixed(searcher, fields.words, word) {
            Some(words) if words.is_empty() => Expansion::None,
            Some(words) => Expansion::Listed(words),
            None => Expansion::Automaton { prefix, typos },
        },
        _ => Expansion::Automaton { prefix, typos },
    }
}

fn automaton(field: Field, word: &str, prefix: bool, typos: u8) -> Box<dyn Query> {
    let term = Term::from_field_text(field, word);
    if prefix {
        boxed(FuzzyTermQuery::new_prefix(term, typos, true))
    } else {
        boxed(FuzzyTermQuery::new(term, typos, true))
    }
}

/// The ranked fields' term queries of `word`, each at `share` of its field's weight.
fn scored(fields: &Fields, word: &str, share: f32) -> impl Iterator<Item = Box<dyn Query>> {
    weighted(fields).into_iter().map(move |(field, weight)| {
        let term = TermQuery::new(Term::from_field_text(field, word), IndexRecordOption::WithFreqs);
        boxed(BoostQuery::new(boxed(term), weight * share))
    })
}

/// The scoring queries of one word: what it matches, each scored.
fn scoring(fields: &Fields, word: &str, expansion: &Expansion) -> Vec<Box<dyn Query>> {
    let mut any: Vec<Box<dyn Query>> = scored(fields, word, 1.0).collect();
    match expansion {
        Expansion::None => {}
        Expansion::Listed(words) => {
            for longer in words {
                any.extend(scored(fields, longer, PREFIX_WEIGHT));
            }
        }
        &Expansion::Automaton { prefix, typos } => {
            for (field, score) in
                [(fields.title, EXPANDED_TITLE), (fields.words, EXPANDED_ELSEWHERE)]
            {
                let expanded = automaton(field, word, prefix, typos);
                any.push(boxed(ConstScoreQuery::new(expanded, score)));
            }
        }
    }
    any
}

/// What one word matches, through `words`, unscored.
fn matching(fields: &Fields, word: &str, expansion: &Expansion) -> Box<dyn Query> {
    let term = |w: &str| {
        let term = Term::from_field_text(fields.words, w);
        boxed(TermQuery::new(term, IndexRecordOption::Basic))
    };
    let others: Vec<Box<dyn Query>> = match expansion {
        Expansion::None => return term(word),
        Expansion::Listed(words) => words.iter().map(|w| term(w)).collect(),
        &Expansion::Automaton { prefix, typos } => {
            vec![automaton(fields.words, word, prefix, typos)]
        }
    };
    let any = std::iter::once(term(word)).chain(others).map(|query| (Occur::Should, query));
    boxed(BooleanQuery::new(any.collect()))
}

/// A search's two queries: the same matches, ranked or counted.
pub(crate) struct Search {
    /// Scores the matches (filters score nothing).
    pub ranking: Box<dyn Query>,
    /// Matches the same listings, to count them.
    pub matching: Box<dyn Query>,
}

/// The queries of `terms` under `filter`; `None` when no term has a word to look for.
pub(crate) fn build(
    index: &Index,
    searcher: &Searcher,
    fields: &Fields,
    terms: &[String],
    catalog_filter: &CatalogFilter,
) -> Option<Search> {
    let words = words(index, terms);
    if words.is_empty() {
        return None;
    }
    let mut required: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut scorers: Vec<Box<dyn Query>> = Vec::new();
    for (i, word) in words.iter().enumerate() {
        let expansion = expansion(searcher, fields, word, i + 1 == words.len());
        required.push((Occur::Must, matching(fields, word, &expansion)));
        scorers.extend(scoring(fields, word, &expansion));
    }
    if let Some(kind) = catalog_filter.listing_type {
        required.push(filter(fields.listing_type, kind.as_str()));
    }
    if let Some(category) = &catalog_filter.category {
        required.push(filter(fields.category, category));
    }
    if let Some(price) = catalog_filter.price {
        required.push(filter(fields.price, schema::price_term(price == PriceFilter::Free)));
    }
    let single = required.len() == 1;
    let matching = boxed(BooleanQuery::new(required));
    let ranking = if single {
        // One word and no filter: its scoring queries' union ranks exactly its matches,
        // and a union of term queries is what block-max WAND prunes.
        let any = scorers.into_iter().map(|query| (Occur::Should, query));
        boxed(BooleanQuery::new(any.collect()))
    } else {
        boxed(ScoredBy::new(matching.box_clone(), scorers))
    };
    Some(Search { ranking, matching })
}
