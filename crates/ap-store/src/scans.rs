//! Scan verdicts cached by content hash (`GET /v1/security/check/{content_hash}`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::conn::Conn;
use crate::error::StoreError;
use crate::schema::scan_cache;

/// A cached verdict.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = scan_cache)]
pub struct CachedScan {
    pub content_hash: String,
    pub security_status: String,
    pub security_score: i32,
    /// JSON array of findings.
    pub findings: String,
    /// JSON array of layers.
    pub layers: String,
    /// The rules version that produced it.
    pub scanner_version: String,
    pub created_at: NaiveDateTime,
}

/// The verdict for a content hash by the given rules version.
pub fn cached(
    conn: &mut Conn,
    content_hash: &str,
    scanner_version: &str,
) -> Result<Option<CachedScan>, StoreError> {
    Ok(scan_cache::table
        .find(content_hash)
        .filter(scan_cache::scanner_version.eq(scanner_version))
        .select(CachedScan::as_select())
        .first(conn)
        .optional()?)
}

/// Stores a verdict, replacing an older one for the same content.
pub fn store(conn: &mut Conn, scan: &CachedScan) -> Result<(), StoreError> {
    let updated =
        diesel::update(scan_cache::table.find(&scan.content_hash)).set(scan).execute(conn)?;
    if updated == 0 {
        // A concurrent store of the same content is as good as ours.
        let inserted =
            conn.transaction(|c| diesel::insert_into(scan_cache::table).values(scan).execute(c));
        match inserted.map_err(StoreError::from) {
            Ok(_) | Err(StoreError::Conflict(_)) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(())
}
