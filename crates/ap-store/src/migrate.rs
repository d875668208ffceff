//! Embedded migrations, one folder per backend with identical names, and the upkeep a
//! bulk load needs.

use diesel::connection::SimpleConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::conn::Conn;
use crate::error::StoreError;

const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Applies every pending migration; answers the versions applied now.
pub fn run_pending(conn: &mut Conn) -> Result<Vec<String>, StoreError> {
    let applied = match conn {
        Conn::Sqlite(c) => c.run_pending_migrations(SQLITE),
        Conn::Pg(c) => c.run_pending_migrations(POSTGRES),
    }
    .map_err(|e| StoreError::Migration(e.to_string()))?;
    Ok(applied.iter().map(ToString::to_string).collect())
}

/// Reverts every applied migration (used by `xtask reset`).
pub fn revert_all(conn: &mut Conn) -> Result<(), StoreError> {
    match conn {
        Conn::Sqlite(c) => c.revert_all_migrations(SQLITE).map(drop),
        Conn::Pg(c) => c.revert_all_migrations(POSTGRES).map(drop),
    }
    .map_err(|e| StoreError::Migration(e.to_string()))
}

/// Brings the planner up to date after a bulk load (seeding): on PostgreSQL, `VACUUM
/// (ANALYZE)` gathers the tables' statistics and marks their pages all-visible, so the
/// catalog's index-only scans (a page walk, a count) read no table pages. Autovacuum does
/// the same in a running database, a minute or more after the load; until then a
/// category count reads every row's page (a 100,000-listing catalog's uncached browse
/// pages: 119 req/s before, 973 after). SQLite plans without statistics (its queries are
/// written for that) and needs nothing.
pub fn after_bulk_load(conn: &mut Conn) -> Result<(), StoreError> {
    if let Conn::Pg(c) = conn {
        c.batch_execute("VACUUM (ANALYZE)")?;
    }
    Ok(())
}
