//! Stored listing details: each live listing's detail as the JSON `GET /v1/skills/{slug}`
//! answers, read with one lookup by slug.
//!
//! Documents are derived data. Triggers (migration `listing_documents`) name a listing in
//! `listing_documents_due` in the transaction of any change to the listing, its versions
//! or its author; [`body`] never answers a due listing's document (one statement reads
//! both), and [`build_due`] (with ap-market's renderer) rebuilds what is due. Each
//! document records the `format` (a digest of the build's rendering) that wrote it: a
//! reader asks for its own format only, and [`mark_stale`] makes another build's
//! documents due again. A listing without a servable document is read through the join,
//! so the store never hands out a document that differs from what the join would answer.

use ap_domain::listing::ListingType;
use diesel::prelude::*;

use crate::catalog::{self, DetailParts, id_in};
use crate::conn::{Conn, write_tx};
use crate::error::StoreError;
use crate::schema::{listing_documents, listing_documents_due, listings};
use crate::with_backend;

/// The stored detail (JSON) in `format` of the listing with this slug (optionally of
/// one type), if it has one and is not due.
pub fn body(
    conn: &mut Conn,
    slug: &str,
    kind: Option<ListingType>,
    format: &str,
) -> Result<Option<String>, StoreError> {
    // Not boxed, on the backend's own connection: found in the statement cache by type.
    Ok(with_backend!(conn, c => {
        let query = listing_documents::table
            .filter(listing_documents::slug.eq(slug))
            .filter(listing_documents::format.eq(format))
            .filter(diesel::dsl::not(diesel::dsl::exists(
                listing_documents_due::table
                    .filter(listing_documents_due::listing_id.eq(listing_documents::listing_id)),
            )))
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
        .distinct()
        .order(listing_documents_due::listing_id.asc())
        .limit(limit)
        .load(conn)?)
}

/// Marks due every listing (not due already) whose document is in another format than
/// `format` (written by another build); answers how many.
pub fn mark_stale(conn: &mut Conn, format: &str) -> Result<usize, StoreError> {
    // Two ranges of the format index rather than `<>`, which no index serves.
    let stale = listing_documents::table
        .filter(listing_documents::format.lt(format).or(listing_documents::format.gt(format)))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            listing_documents_due::table
                .filter(listing_documents_due::listing_id.eq(listing_documents::listing_id)),
        )))
        .select(listing_documents::listing_id);
    Ok(with_backend!(conn, c => diesel::insert_into(listing_documents_due::table)
        .values(stale)
        .into_columns(listing_documents_due::listing_id)
        .execute(c)?))
}

/// Listings settled per write transaction: small enough that writers never wait long.
const BATCH: i64 = 256;

/// Builds the document in `format` of due listings that are live, with `render`, and
/// drops the due mark of the rest (and of a listing `render` fails on, logged); answers
/// how many listings it settled. At most `batches` batches (all when `None`); each is
/// one write transaction that reads what it writes, after [`lock`]. A batch that cannot
/// have the lock at once ends the round (the next one takes it up).
pub fn build_due(
    conn: &mut Conn,
    format: &str,
    render: impl Fn(&DetailParts) -> Result<String, StoreError>,
    batches: Option<usize>,
) -> Result<usize, StoreError> {
    let mut settled = 0;
    let mut left = batches;
    while left != Some(0) && any_due(conn)? {
        left = left.map(|n| n - 1);
        let batch = write_tx(conn, |conn| {
            lock(conn)?;
            let due = due(conn, BATCH)?;
            let due: Vec<&str> = due.iter().map(String::as_str).collect();
            let mut rendered = Vec::new();
            for parts in catalog::details_by_ids(conn, &due)? {
                if !parts.card.is_live() {
                    continue;
                }
                match render(&parts) {
                    Ok(body) => rendered.push((parts, body)),
                    Err(error) => tracing::warn!(
                        listing = parts.card.id.as_str(),
                        %error,
                        "a listing's detail cannot be stored; it is read through the join"
                    ),
                }
            }
            let new: Vec<NewDocument<'_>> = rendered
                .iter()
                .map(|(parts, body)| NewDocument {
                    slug: &parts.card.slug,
                    listing_id: parts.card.id.as_str(),
                    listing_type: parts.card.listing_type.as_str(),
                    format,
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
    /// A writer that marked a listing due is still open (PostgreSQL): the batch waits for
    /// the next round.
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
/// EXCLUSIVE` on the due marks: granted only when no writer whose trigger marked a
/// listing due is still open (so the builder reads what they wrote), and every later
/// writer's trigger waits for the builder's commit, then marks its listing due again
/// (so what the builder wrote is not served). `NOWAIT`:
/// a builder queued behind an open writer would queue every later writer behind itself,
/// and a writer that then waited for one of those (for a row lock) would close a cycle;
/// [`BuildError::Busy`] instead. On SQLite the write transaction (`BEGIN IMMEDIATE`)
/// already excludes every other writer.
fn lock(conn: &mut Conn) -> Result<(), BuildError> {
    if let Conn::Pg(c) = conn {
        // The migration's function: the lock, or false on `lock_not_available`.
        let locked: bool = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(
            "listing_documents_try_lock()",
        ))
        .get_result(c)
        .map_err(StoreError::from)?;
        if !locked {
            return Err(BuildError::Busy);
        }
    }
    Ok(())
}

/// Deletes the documents of every listing of `owner_id` (the change that calls for it
/// marked them due already): an erased account's name leaves them in its own
/// transaction, not when they are rebuilt.
pub(crate) fn discard_of_owner(conn: &mut Conn, owner_id: &str) -> Result<(), StoreError> {
    let owned = listings::table.filter(listings::owner_id.eq(owner_id)).select(listings::id);
    diesel::delete(listing_documents::table.filter(listing_documents::listing_id.eq_any(owned)))
        .execute(conn)?;
    Ok(())
}

/// A document to store.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = listing_documents)]
pub(crate) struct NewDocument<'a> {
    slug: &'a str,
    listing_id: &'a str,
    listing_type: &'a str,
    format: &'a str,
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
