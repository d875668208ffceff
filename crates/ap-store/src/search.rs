//! What the search index is built from: live listings with their authors' names, and
//! the catalog's change log.
//!
//! The change log (`catalog_changes`) is written by triggers in the transaction of every
//! change to a listing's searchable or ranked columns, and to an author's display name
//! (one row per listing of theirs), so no writer can forget it, operators' manual fixes
//! included. Rows carry only the listing id: a follower re-reads the listing, which
//! makes applying a change twice harmless.

use std::collections::HashMap;

use ap_domain::UserId;
use ap_domain::listing::ListingType;
use ap_domain::search::SearchableListing;
use diesel::dsl::{max, min};
use diesel::prelude::*;

use crate::catalog::id_in;
use crate::conn::Conn;
use crate::error::StoreError;
use crate::schema::{catalog_changes, listings, users};

/// One entry of the change log.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Change {
    /// Position in the log (increasing; on PostgreSQL an entry may commit after a later one).
    pub id: i64,
    /// The listing that changed.
    pub listing_id: String,
    /// `counts` when only its download or install counts moved, else `listing`.
    pub kind: String,
}

impl Change {
    /// Whether more than counts changed (what caches must not serve any longer).
    pub fn is_content(&self) -> bool {
        self.kind != "counts"
    }
}

/// The newest entry of the change log, if any.
pub fn latest_change(conn: &mut Conn) -> Result<Option<i64>, StoreError> {
    Ok(catalog_changes::table.select(max(catalog_changes::id)).first(conn)?)
}

/// The oldest entry still kept, if any.
pub fn oldest_change(conn: &mut Conn) -> Result<Option<i64>, StoreError> {
    Ok(catalog_changes::table.select(min(catalog_changes::id)).first(conn)?)
}

/// Up to `limit` entries after `after`, oldest first.
pub fn changes_after(conn: &mut Conn, after: i64, limit: i64) -> Result<Vec<Change>, StoreError> {
    Ok(catalog_changes::table
        .filter(catalog_changes::id.gt(after))
        .order(catalog_changes::id.asc())
        .limit(limit)
        .select((catalog_changes::id, catalog_changes::listing_id, catalog_changes::kind))
        .load(conn)?)
}

/// The entries among `ids` that exist (gaps a follower waits for).
pub fn changes_among(conn: &mut Conn, ids: &[i64]) -> Result<Vec<Change>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(catalog_changes::table
        .filter(catalog_changes::id.eq_any(ids))
        .select((catalog_changes::id, catalog_changes::listing_id, catalog_changes::kind))
        .load(conn)?)
}

/// Deletes the entries before `before`; answers how many.
pub fn prune_changes(conn: &mut Conn, before: i64) -> Result<usize, StoreError> {
    Ok(diesel::delete(catalog_changes::table.filter(catalog_changes::id.lt(before)))
        .execute(conn)?)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = listings)]
struct IndexColumns {
    id: String,
    owner_id: UserId,
    listing_type: ListingType,
    category: String,
    price_cents: i64,
    title: String,
    description: String,
    long_description: String,
    popularity: i64,
    archived_at: Option<chrono::NaiveDateTime>,
    live_version_id: Option<String>,
}

/// A listing as the search index needs it, and whether it is live (unarchived, with a
/// live version): only live listings are found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexRow {
    /// Whether it is live.
    pub live: bool,
    /// What search knows of it.
    pub listing: SearchableListing,
}

fn with_authors(conn: &mut Conn, rows: Vec<IndexColumns>) -> Result<Vec<IndexRow>, StoreError> {
    let mut owners: Vec<&str> = rows.iter().map(|r| r.owner_id.as_str()).collect();
    owners.sort_unstable();
    owners.dedup();
    let names: HashMap<UserId, Option<String>> = if owners.is_empty() {
        HashMap::new()
    } else {
        let filter = id_in(users::id, &owners);
        users::table
            .filter(filter)
            .select((users::id, users::display_name))
            .load::<(UserId, Option<String>)>(conn)?
            .into_iter()
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|r| IndexRow {
            live: r.archived_at.is_none() && r.live_version_id.is_some(),
            listing: SearchableListing {
                author: names.get(&r.owner_id).cloned().flatten().unwrap_or_default(),
                id: r.id,
                listing_type: r.listing_type,
                category: r.category,
                price_cents: r.price_cents,
                title: r.title,
                description: r.description,
                long_description: r.long_description,
                popularity: r.popularity,
            },
        })
        .collect())
}

/// These listings, whatever their state (ids of deleted listings are left out).
pub fn index_rows(conn: &mut Conn, ids: &[&str]) -> Result<Vec<IndexRow>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let filter = id_in(listings::id, ids);
    let rows = listings::table.filter(filter).select(IndexColumns::as_select()).load(conn)?;
    with_authors(conn, rows)
}

/// Up to `limit` live listings with ids after `after`, in id order (a rebuild reads the
/// catalog in such pages).
pub fn live_index_rows(
    conn: &mut Conn,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<IndexRow>, StoreError> {
    let mut query = listings::table
        .filter(listings::archived_at.is_null())
        .filter(listings::live_version_id.is_not_null())
        .order(listings::id.asc())
        .limit(limit)
        .select(IndexColumns::as_select())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(listings::id.gt(after.to_owned()));
    }
    let rows = query.load(conn)?;
    with_authors(conn, rows)
}
