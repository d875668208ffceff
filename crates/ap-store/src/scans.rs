//! Scan verdicts cached by content hash and package kind
//! (`GET /v1/security/check/{content_hash}`).

use ap_domain::listing::SecurityStatus;
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
    /// The package kind it was scanned as (`skill`, `agent`).
    pub kind: String,
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

impl CachedScan {
    /// The verdict (`pending` for a spelling the vocabulary does not know).
    pub fn status(&self) -> SecurityStatus {
        SecurityStatus::parse(&self.security_status).unwrap_or(SecurityStatus::Pending)
    }
}

/// The verdict for a content hash by the given rules version: of its kinds, the worst
/// (the check names no kind, and a verdict must never be better than one on record).
pub fn cached(
    conn: &mut Conn,
    content_hash: &str,
    scanner_version: &str,
) -> Result<Option<CachedScan>, StoreError> {
    let verdicts: Vec<CachedScan> = scan_cache::table
        .filter(scan_cache::content_hash.eq(content_hash))
        .filter(scan_cache::scanner_version.eq(scanner_version))
        .order(scan_cache::kind.asc())
        .select(CachedScan::as_select())
        .load(conn)?;
    Ok(verdicts.into_iter().max_by_key(|v| rank(&v.security_status)))
}

/// How bad a verdict is (`block` worst).
fn rank(status: &str) -> u8 {
    match SecurityStatus::parse(status) {
        Some(SecurityStatus::Block) => 2,
        Some(SecurityStatus::Warn) => 1,
        _ => 0,
    }
}

/// Stores a verdict of its content hash and kind. For the same rules version the worst
/// verdict stays: the content hash (docs/API.md, Content hash) does not separate paths
/// from bytes, so two different packages can share it, and a harmless twin must not
/// whitewash a harmful one. A verdict of other rules replaces the stored one.
pub fn store(conn: &mut Conn, scan: &CachedScan) -> Result<(), StoreError> {
    let key = (&scan.content_hash, &scan.kind);
    let current: Option<(String, String)> = scan_cache::table
        .find(key)
        .select((scan_cache::security_status, scan_cache::scanner_version))
        .first(conn)
        .optional()?;
    if let Some((status, version)) = current
        && version == scan.scanner_version
        && rank(&status) >= rank(&scan.security_status)
    {
        return Ok(());
    }
    let updated = diesel::update(scan_cache::table.find(key)).set(scan).execute(conn)?;
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
