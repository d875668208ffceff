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

/// How bad a verdict is (`block` worst).
fn rank(status: &str) -> u8 {
    match status {
        "block" => 2,
        "warn" => 1,
        _ => 0,
    }
}

/// Stores a verdict. For the same rules version the worst verdict stays: the content
/// hash (CONTRACT §2.4) does not separate paths from bytes, so two different packages can
/// share it, and a harmless twin must not whitewash a harmful one. A verdict of other
/// rules replaces the stored one.
pub fn store(conn: &mut Conn, scan: &CachedScan) -> Result<(), StoreError> {
    let current: Option<(String, String)> = scan_cache::table
        .find(&scan.content_hash)
        .select((scan_cache::security_status, scan_cache::scanner_version))
        .first(conn)
        .optional()?;
    if let Some((status, version)) = current
        && version == scan.scanner_version
        && rank(&status) >= rank(&scan.security_status)
    {
        return Ok(());
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestDatabase;

    fn verdict(status: &str, rules: &str) -> CachedScan {
        CachedScan {
            content_hash: "sha256:abc".to_owned(),
            security_status: status.to_owned(),
            security_score: if status == "pass" { 10 } else { 0 },
            findings: "[]".to_owned(),
            layers: "[]".to_owned(),
            scanner_version: rules.to_owned(),
            created_at: chrono::Utc::now().naive_utc(),
        }
    }

    #[test]
    fn the_worst_verdict_of_the_same_rules_stays() {
        let database = TestDatabase::sqlite();
        let status = |conn: &mut Conn, rules: &str| {
            cached(conn, "sha256:abc", rules).map(|c| c.map(|c| c.security_status))
        };
        database
            .db
            .run_blocking(|conn| {
                store(conn, &verdict("pass", "1"))?;
                assert_eq!(status(conn, "1")?.as_deref(), Some("pass"));
                store(conn, &verdict("block", "1"))?;
                store(conn, &verdict("pass", "1"))?;
                store(conn, &verdict("warn", "1"))?;
                assert_eq!(status(conn, "1")?.as_deref(), Some("block"));
                // New rules replace the verdict of old ones.
                store(conn, &verdict("pass", "2"))?;
                assert_eq!(status(conn, "1")?, None);
                assert_eq!(status(conn, "2")?.as_deref(), Some("pass"));
                Ok::<_, StoreError>(())
            })
            .expect("scan cache");
    }
}
