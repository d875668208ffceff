//! [`ScoredBy`]: a query that matches what one query matches and scores each match with
//! the queries that also match it, looked up lazily.
//!
//! A search of several words matches few listings but ranks them over many postings (each
//! word in five fields, a prefix's words too). Tantivy's union of those postings fills a
//! window of thousands of documents from every one of them whenever an intersection seeks
//! it, so it walks them all. Here the matches come from the cheap query (each word's
//! `words` postings and the filters, intersected), and each scoring query is moved to a
//! match only when that match is scored: a term's postings skip to it. (An automaton's
//! clause, a long prefix or a typo, has its set of matches built when its scorer is.)

use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, TantivyError};

/// Matches what `required` matches; scores a match by the sum of the `scoring` queries
/// that match it (`required` scores nothing of its own).
#[derive(Debug)]
pub(crate) struct ScoredBy {
    required: Box<dyn Query>,
    scoring: Vec<Box<dyn Query>>,
}

impl ScoredBy {
    pub(crate) fn new(required: Box<dyn Query>, scoring: Vec<Box<dyn Query>>) -> Self {
        Self { required, scoring }
    }
}

impl Clone for ScoredBy {
    fn clone(&self) -> Self {
        Self {
            required: self.required.box_clone(),
            scoring: self.scoring.iter().map(|query| query.box_clone()).collect(),
        }
    }
}

impl Query for ScoredBy {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        // The matches only: what scores them is the scoring queries.
        let unscored = match enable_scoring.searcher() {
            Some(searcher) => EnableScoring::disabled_from_searcher(searcher),
            None => EnableScoring::disabled_from_schema(enable_scoring.schema()),
        };
        let required = self.required.weight(unscored)?;
        let scoring = if enable_scoring.is_scoring_enabled() {
            self.scoring
                .iter()
                .map(|query| query.weight(enable_scoring))
                .collect::<Result<_, _>>()?
        } else {
            Vec::new()
        };
        Ok(Box::new(ScoredByWeight { required, scoring }))
    }
}

struct ScoredByWeight {
    required: Box<dyn Weight>,
    scoring: Vec<Box<dyn Weight>>,
}

impl Weight for ScoredByWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let required = self.required.scorer(reader, boost)?;
        let mut scoring = Vec::with_capacity(self.scoring.len());
        for weight in &self.scoring {
            let scorer = weight.scorer(reader, boost)?;
            // A query that matches nothing in this segment scores nothing in it.
            if scorer.doc() != TERMINATED {
                scoring.push(scorer);
            }
        }
        Ok(Box::new(ScoredByScorer { required, scoring }))
    }

    fn count(&self, reader: &SegmentReader) -> tantivy::Result<u32> {
        self.required.count(reader)
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.doc() > doc || scorer.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!("document {doc} does not match")));
        }
        Ok(Explanation::new("sum of the scoring queries that match", scorer.score()))
    }
}

struct ScoredByScorer {
    required: Box<dyn Scorer>,
    scoring: Vec<Box<dyn Scorer>>,
}

impl DocSet for ScoredByScorer {
    fn advance(&mut self) -> DocId {
        self.required.advance()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        self.required.seek(target)
    }

    fn doc(&self) -> DocId {
        self.required.doc()
    }

    fn size_hint(&self) -> u32 {
        self.required.size_hint()
    }
}

impl Scorer for ScoredByScorer {
    fn score(&mut self) -> Score {
        let doc = self.doc();
        let mut score = 0.0;
        for scorer in &mut self.scoring {
            if scorer.doc() < doc {
                scorer.seek(doc);
            }
            if scorer.doc() == doc {
                score += scorer.score();
            }
        }
        score
    }
}
