//! Stored listing details: each live listing's detail as the bytes `GET /v1/skills/{slug}`
//! answers, read with one lookup by slug.
//!
//! Documents are derived data. Triggers (migration `listing_documents`) drop a listing's
//! document in the transaction of any change to the listing, its versions or its author,
//! and name the listing in `listing_documents_due`; [`build_due`] (with ap-market's
//! renderer) rebuilds what is due. A listing without a document is read through the
//! join, so a document is never stale.

use ap_domain::listing::ListingType;
use diesel::prelude::*;

use crate::catalog::{self, DetailParts, id_in};
use crate::conn::{Conn, write_tx};
use crate::error::StoreError;
use crate::schema::{listing_documents, listing_documents_due};
use crate::with_backend;

/// The stored detail (JSON) of the listing with this slug (optionally of one type), if it has one.
pub fn body(
    conn: &mut Conn,
    slug: &str,
    kind: Option<ListingType>,
) -> Result<Option<String>, StoreError> {
    // Not boxed, on the backend's own connection: found in the statement cache by type.
    Ok(with_backend!(conn, c => {
        let query = listing_documents::table
            .filter(listing_documents::slug.eq(slug))
            .select(listing_documents::body);
        match kind {
            Some(kind) => query
                .filter(listing_documents::listing_type.eq(kind.as_str()))
                .first(c)
                .optional()?,
            None => query.first(c).optional()?,
        }
    }))
}

/// Whether any listing's document is due to be built.
pub fn any_due(conn: &mut Conn) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(
        listing_documents_due::table.select(listing_documents_due::listing_id),
    ))
    .get_result(conn)?)
}

/// Up to `limit` listings whose documents are due, by id.
pub fn due(conn: &mut Conn, limit: i64) -> Result<Vec<String>, StoreError> {
    Ok(listing_documents_due::table
        .select(listing_documents_due::listing_id)
        .order(listing_documents_due::listing_id.asc())
        .limit(limit)
        .load(conn)?)
}

/// Listings settled per write transaction: small enough that writers never wait long.
const BATCH: i64 = 256;

/// Builds the document of every due listing that is live, with `render`, and drops the
/// due mark of the rest; answers how many listings it settled. Each batch is one write
/// transaction that reads what it writes, after [`lock`]; a batch that cannot have the
/// lock at once ends the round (the next follow takes it up).
pub fn build_due(
    conn: &mut Conn,
    render: impl Fn(&DetailParts) -> Result<String, StoreError>,
) -> Result<usize, StoreError> {
    let mut settled = 0;
    while any_due(conn)? {
        let batch = write_tx(conn, |conn| {
            lock(conn)?;
            let due = due(conn, BATCH)?;
            let due: Vec<&str> = due.iter().map(String::as_str).collect();
            let live: Vec<DetailParts> = catalog::details_by_ids(conn, &due)?
                .into_iter()
                .filter(|parts| parts.card.is_live())
                .collect();
            let bodies = live.iter().map(&render).collect::<Result<Vec<_>, _>>()?;
            let new: Vec<NewDocument<'_>> = live
                .iter()
                .zip(&bodies)
                .map(|(parts, body)| NewDocument {
                    slug: &parts.card.slug,
                    listing_id: parts.card.id.as_str(),
                    listing_type: parts.card.listing_type.as_str(),
                    body,
                })
                .collect();
            store(conn, &new, &due)?;
            Ok::<_, BuildError>(due.len())
        });
        match batch {
            Ok(count) => settled += count,
            Err(BuildError::Busy) => break,
            Err(BuildError::Store(error)) => return Err(error),
        }
    }
    Ok(settled)
}

/// Why a batch stopped.
enum BuildError {
    /// A writer holds the documents (PostgreSQL): the batch waits for the next round.
    Busy,
    /// The store failed.
    Store(StoreError),
}

impl From<StoreError> for BuildError {
    fn from(error: StoreError) -> Self {
        BuildError::Store(error)
    }
}

/// Makes the rest of this transaction a builder's. On PostgreSQL it takes `SHARE ROW
/// EXCLUSIVE` on the documents: granted only once no writer whose trigger dropped a
/// document is still open (so the builder reads what they wrote), and every later
/// writer's trigger waits for the builder's commit, then drops what it wrote. `NOWAIT`:
/// a builder queued behind an open writer would queue every later writer behind itself,
/// and a writer that then waited for one of those (for a row lock) would close a cycle;
/// [`BuildError::Busy`] instead. On SQLite the write transaction (`BEGIN IMMEDIATE`)
/// already excludes every other writer.
fn lock(conn: &mut Conn) -> Result<(), BuildError> {
    if let Conn::Pg(c) = conn {
        diesel::sql_query("LOCK TABLE listing_documents IN SHARE ROW EXCLUSIVE MODE NOWAIT")
            .execute(c)
            .map_err(|error| match error {
                // PostgreSQL's lock_not_available (55P03), which diesel does not name.
                diesel::result::Error::DatabaseError(_, info)
                    if info.message().starts_with("could not obtain lock") =>
                {
                    BuildError::Busy
                }
                other => BuildError::Store(other.into()),
            })?;
    }
    Ok(())
}

/// A document to store.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = listing_documents)]
pub(crate) struct NewDocument<'a> {
    slug: &'a str,
    listing_id: &'a str,
    listing_type: &'a str,
    body: &'a str,
}

/// Stores `documents` and drops the documents and due marks of `done` (the listings
/// they were built for, live or not).
pub(crate) fn store(
    conn: &mut Conn,
    documents: &[NewDocument<'_>],
    done: &[&str],
) -> Result<(), StoreError> {
    diesel::delete(listing_documents::table.filter(id_in(listing_documents::listing_id, done)))
        .execute(conn)?;
    if !documents.is_empty() {
        // One statement for the batch, on the backend's own connection (the
        // multi-backend one inserts row by row).
        with_backend!(conn, c => diesel::insert_into(listing_documents::table)
            .values(documents)
            .execute(c)?);
    }
    diesel::delete(
        listing_documents_due::table.filter(id_in(listing_documents_due::listing_id, done)),
    )
    .execute(conn)?;
    Ok(())
}
