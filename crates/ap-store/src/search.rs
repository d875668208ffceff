//! Full-text search over live listings: FTS5 with `bm25` on SQLite, a weighted
//! `tsvector` with `ts_rank` on PostgreSQL, behind one function.
//!
//! Only terms from [`ap_domain::search::terms`] reach the engines (letters and digits),
//! each quoted and matched as a prefix, so no input can form an operator. Ranking
//! weights: title strongest, then description, category and author, then the long
//! description; ties are broken by popularity. On SQLite the index holds live listings
//! only, so an unfiltered query ranks and counts without touching the listings table
//! (ties are then broken within the ranked window).

use ap_domain::listing::CatalogFilter;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use crate::conn::Conn;
use crate::error::StoreError;

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = Text)]
    id: String,
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// A ranked window of search results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranked {
    /// Ids of the best matches, best first, at most the window asked for.
    pub ids: Vec<String>,
    /// How many live listings match in all.
    pub total: i64,
}

/// SQLite without filters: rank and count in the index alone (it holds live listings
/// only), then break ties by popularity within the ranked window.
const SQLITE_RANK_UNFILTERED: &str = "SELECT l.id AS id FROM \
     (SELECT rowid AS rid, bm25(listings_fts, 10.0, 4.0, 1.0, 2.0, 2.0) AS score \
      FROM listings_fts WHERE listings_fts MATCH ?1 ORDER BY score LIMIT ?2) f \
     JOIN listings l ON l.rid = f.rid ORDER BY f.score, l.popularity DESC, l.id DESC";

const SQLITE_COUNT_UNFILTERED: &str =
    "SELECT count(*) AS n FROM listings_fts WHERE listings_fts MATCH ?1";

const SQLITE_FROM: &str = "FROM listings_fts JOIN listings l ON l.rid = listings_fts.rowid \
     WHERE listings_fts MATCH ?1 AND l.archived_at IS NULL AND l.live_version_id IS NOT NULL \
     AND (?2 IS NULL OR l.listing_type = ?2) AND (?3 IS NULL OR l.category = ?3)";

const PG_FROM: &str = "FROM listings l, to_tsquery('simple', $1) query \
     WHERE l.search_vector @@ query AND l.archived_at IS NULL AND l.live_version_id IS NOT NULL \
     AND ($2::text IS NULL OR l.listing_type = $2) AND ($3::text IS NULL OR l.category = $3)";

/// The FTS5 query of `terms`: each quoted and matched as a prefix, all required.
fn sqlite_match(terms: &[String]) -> String {
    terms.iter().map(|t| format!("\"{t}\"*")).collect::<Vec<_>>().join(" ")
}

/// Ranks live listings matching every term (as a prefix); answers the best `window` ids
/// and the total number of matches. `terms` must come from `ap_domain::search::terms`.
pub fn ranked(
    conn: &mut Conn,
    terms: &[String],
    filter: &CatalogFilter,
    window: i64,
) -> Result<Ranked, StoreError> {
    if terms.is_empty() {
        return Ok(Ranked { ids: Vec::new(), total: 0 });
    }
    let kind = filter.listing_type.map(|k| k.as_str().to_owned());
    let category = filter.category.clone();
    let (ids, total) = match conn {
        Conn::Sqlite(c) if kind.is_none() && category.is_none() => {
            let expr = sqlite_match(terms);
            let ids: Vec<IdRow> = diesel::sql_query(SQLITE_RANK_UNFILTERED)
                .bind::<Text, _>(&expr)
                .bind::<BigInt, _>(window)
                .load(c)?;
            let total = if (ids.len() as i64) < window {
                ids.len() as i64
            } else {
                diesel::sql_query(SQLITE_COUNT_UNFILTERED)
                    .bind::<Text, _>(&expr)
                    .get_result::<CountRow>(c)?
                    .n
            };
            (ids, total)
        }
        Conn::Sqlite(c) => {
            let expr = sqlite_match(terms);
            let ids: Vec<IdRow> = diesel::sql_query(format!(
                "SELECT l.id AS id {SQLITE_FROM} \
                 ORDER BY bm25(listings_fts, 10.0, 4.0, 1.0, 2.0, 2.0), l.popularity DESC, l.id DESC \
                 LIMIT {window}"
            ))
            .bind::<Text, _>(&expr)
            .bind::<Nullable<Text>, _>(&kind)
            .bind::<Nullable<Text>, _>(&category)
            .load(c)?;
            let total = if (ids.len() as i64) < window {
                ids.len() as i64
            } else {
                diesel::sql_query(format!("SELECT count(*) AS n {SQLITE_FROM}"))
                    .bind::<Text, _>(&expr)
                    .bind::<Nullable<Text>, _>(&kind)
                    .bind::<Nullable<Text>, _>(&category)
                    .get_result::<CountRow>(c)?
                    .n
            };
            (ids, total)
        }
        Conn::Pg(c) => {
            let expr = terms.iter().map(|t| format!("{t}:*")).collect::<Vec<_>>().join(" & ");
            let ids: Vec<IdRow> = diesel::sql_query(format!(
                "SELECT l.id AS id {PG_FROM} \
                 ORDER BY ts_rank(l.search_vector, query) DESC, l.popularity DESC, l.id DESC \
                 LIMIT {window}"
            ))
            .bind::<Text, _>(&expr)
            .bind::<Nullable<Text>, _>(&kind)
            .bind::<Nullable<Text>, _>(&category)
            .load(c)?;
            let total = if (ids.len() as i64) < window {
                ids.len() as i64
            } else {
                diesel::sql_query(format!("SELECT count(*) AS n {PG_FROM}"))
                    .bind::<Text, _>(&expr)
                    .bind::<Nullable<Text>, _>(&kind)
                    .bind::<Nullable<Text>, _>(&category)
                    .get_result::<CountRow>(c)?
                    .n
            };
            (ids, total)
        }
    };
    Ok(Ranked { ids: ids.into_iter().map(|row| row.id).collect(), total })
}
