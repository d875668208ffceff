//! The index's fields, the analyzer of its words, and a listing as a document.
//!
//! Ranked fields carry term frequencies for BM25: title, category words, description,
//! author and long description, each weighted at query time. `words` holds all of them
//! once more, without frequencies: a search matches and counts through it, and finds a
//! prefix's words and a typo's neighbours in its dictionary (one automaton per expanded
//! term instead of one per field). Filters are untokenized terms; the id (a UUID, as two
//! halves) and popularity are columns read for each hit, and the index is sorted by
//! popularity.

use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
};
use tantivy::{Index, IndexSettings, IndexSortByField, Order, TantivyDocument, Term};

use crate::SearchableListing;

/// Names of the id's columns: a listing id is a UUID, kept as its two halves so a hit's
/// id is read in constant time (a string column decodes a dictionary block per hit).
pub(crate) const ID_HIGH: &str = "id_high";
pub(crate) const ID_LOW: &str = "id_low";
/// Name of the popularity column.
pub(crate) const POPULARITY: &str = "popularity";
/// Name of the analyzer of every text field.
pub(crate) const ANALYZER: &str = "words";
/// Longest word indexed, in bytes (longer ones are dropped, as by the query side).
const MAX_WORD_BYTES: usize = 64;

/// The index's fields.
pub(crate) struct Fields {
    pub id: Field,
    pub id_high: Field,
    pub id_low: Field,
    pub listing_type: Field,
    pub category: Field,
    pub price: Field,
    pub title: Field,
    pub category_words: Field,
    pub description: Field,
    pub author: Field,
    pub long_description: Field,
    pub words: Field,
    pub popularity: Field,
}

fn text(record: IndexRecordOption) -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(ANALYZER).set_index_option(record),
    )
}

/// The schema and its fields.
pub(crate) fn build() -> (Schema, Fields) {
    let mut schema = Schema::builder();
    let ranked = text(IndexRecordOption::WithFreqs);
    let fields = Fields {
        id: schema.add_text_field("id", STRING),
        id_high: schema.add_u64_field(ID_HIGH, FAST),
        id_low: schema.add_u64_field(ID_LOW, FAST),
        listing_type: schema.add_text_field("type", STRING),
        category: schema.add_text_field("category", STRING),
        price: schema.add_text_field("price", STRING),
        title: schema.add_text_field("title", ranked.clone()),
        category_words: schema.add_text_field("category_words", ranked.clone()),
        description: schema.add_text_field("description", ranked.clone()),
        author: schema.add_text_field("author", ranked.clone()),
        long_description: schema.add_text_field("long_description", ranked),
        words: schema.add_text_field("words", text(IndexRecordOption::Basic)),
        popularity: schema.add_i64_field(POPULARITY, FAST | INDEXED),
    };
    (schema.build(), fields)
}

/// The analyzer of every text field: words of letters and digits, lower-cased and
/// folded to ASCII where they have an ASCII form (`café` is `cafe`).
pub(crate) fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_WORD_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

pub(crate) fn register_analyzer(index: &Index) {
    index.tokenizers().register(ANALYZER, analyzer());
}

/// The index's settings: every segment holds its listings most popular first, so among
/// equal scores the earlier listing is the more popular one (a ranking that keeps the
/// earlier of a tie breaks ties by popularity without reading it).
pub(crate) fn settings() -> IndexSettings {
    IndexSettings {
        sort_by_field: Some(IndexSortByField { field: POPULARITY.to_owned(), order: Order::Desc }),
        ..IndexSettings::default()
    }
}

/// The filter term of a price.
pub(crate) fn price_term(free: bool) -> &'static str {
    if free { "free" } else { "paid" }
}

impl Fields {
    pub(crate) fn id_term(&self, id: &str) -> Term {
        Term::from_field_text(self.id, id)
    }

    /// The listing as a document; `None` when its id is not a UUID.
    pub(crate) fn document(&self, listing: &SearchableListing) -> Option<TantivyDocument> {
        let (high, low) = uuid::Uuid::parse_str(&listing.id).ok()?.as_u64_pair();
        let mut doc = TantivyDocument::default();
        doc.add_text(self.id, &listing.id);
        doc.add_u64(self.id_high, high);
        doc.add_u64(self.id_low, low);
        doc.add_text(self.listing_type, listing.listing_type.as_str());
        doc.add_text(self.category, &listing.category);
        doc.add_text(self.price, price_term(listing.price_cents == 0));
        doc.add_text(self.title, &listing.title);
        doc.add_text(self.category_words, &listing.category);
        doc.add_text(self.description, &listing.description);
        doc.add_text(self.author, &listing.author);
        doc.add_text(self.long_description, &listing.long_description);
        for part in [
            &listing.title,
            &listing.category,
            &listing.description,
            &listing.author,
            &listing.long_description,
        ] {
            doc.add_text(self.words, part);
        }
        doc.add_i64(self.popularity, listing.popularity);
        Some(doc)
    }
}
