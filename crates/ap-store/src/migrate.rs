//! Embedded migrations, one folder per backend with identical names.

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
