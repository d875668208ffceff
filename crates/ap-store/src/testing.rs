//! Throw-away databases for tests (feature `test-support`): a temporary SQLite file, or a
//! fresh PostgreSQL database created from `AP_TEST_DATABASE_URL` and dropped on `Drop`.

use std::time::Duration;

use diesel::prelude::*;

use crate::db::{Db, DbConfig};
use crate::scratch::ScratchDatabase;

/// The environment variable naming the PostgreSQL server for tests.
pub const PG_ENV: &str = "AP_TEST_DATABASE_URL";

/// A migrated database that disappears with this value.
pub struct TestDatabase {
    /// The pool.
    pub db: Db,
    /// Its URL.
    pub url: String,
    /// Temporary folder (SQLite file, archives).
    pub dir: tempfile::TempDir,
    /// The PostgreSQL database this handle owns (dropped with it).
    postgres: Option<ScratchDatabase>,
}

fn config(url: &str) -> DbConfig {
    DbConfig { acquire_timeout: Duration::from_secs(2), ..DbConfig::new(url) }
}

impl TestDatabase {
    /// A migrated SQLite database in a temporary folder.
    pub fn sqlite() -> TestDatabase {
        let dir = tempfile::tempdir().expect("temporary folder");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let db = Db::open(&config(&url)).expect("open SQLite");
        db.migrate().expect("migrate SQLite");
        TestDatabase { db, url, dir, postgres: None }
    }

    /// A second handle on this database (another server instance over it, with its own
    /// pool); the database belongs to the first handle, which must outlive this one.
    pub fn attach(&self) -> TestDatabase {
        let db = Db::open(&config(&self.url)).expect("open the database again");
        let dir = tempfile::tempdir().expect("temporary folder");
        TestDatabase { db, url: self.url.clone(), dir, postgres: None }
    }

    /// A fresh migrated PostgreSQL database when `AP_TEST_DATABASE_URL` is set; `None`
    /// when it is not. Panics when it is set but the server cannot be reached: CI sets
    /// it, and an unreachable server must fail the run, not skip it.
    pub fn postgres() -> Option<TestDatabase> {
        let admin_url = std::env::var(PG_ENV).ok().filter(|u| !u.is_empty())?;
        let name = format!("ap_test_{}", uuid::Uuid::new_v4().simple());
        let scratch = ScratchDatabase::create(&admin_url, &name)
            .unwrap_or_else(|e| panic!("{PG_ENV} is set but PostgreSQL is unreachable: {e}"));
        let db = Db::open(&config(&scratch.url)).expect("open PostgreSQL");
        db.migrate().expect("migrate PostgreSQL");
        let dir = tempfile::tempdir().expect("temporary folder");
        Some(TestDatabase { db, url: scratch.url.clone(), dir, postgres: Some(scratch) })
    }
}

impl TestDatabase {
    /// PostgreSQL only: makes the database unreachable (no new connections, existing
    /// ones terminated), as if its server went away. Answers `false` on SQLite.
    pub fn cut_off(&self) -> bool {
        let Some(scratch) = &self.postgres else { return false };
        scratch.cut_off().expect("cut the database off");
        true
    }

    /// PostgreSQL only: lets connections in again after [`TestDatabase::cut_off`], as if
    /// the server came back. Answers `false` on SQLite.
    pub fn restore(&self) -> bool {
        let Some(scratch) = &self.postgres else { return false };
        scratch.restore().expect("let connections in again");
        true
    }

    /// PostgreSQL only: a second handle on this database that connects to
    /// `address` (`host:port`, e.g. a proxy in front of the server) instead of the
    /// server itself, with `work_timeout` as its work deadline. `self` must outlive it.
    pub fn attach_through(&self, address: &str, work_timeout: Duration) -> Option<TestDatabase> {
        self.postgres.as_ref()?;
        let url = through(&self.url, address);
        let db = Db::open(&DbConfig { work_timeout, ..config(&url) }).expect("open through");
        let dir = tempfile::tempdir().expect("temporary folder");
        Some(TestDatabase { db, url, dir, postgres: None })
    }

    /// PostgreSQL only: the `host:port` its server listens on.
    pub fn server_address(&self) -> Option<String> {
        self.postgres.as_ref()?;
        Some(split_server(&self.url).1.to_owned())
    }
}

/// A PostgreSQL URL's parts around its `host:port`: (`postgres://user@`, `host:port`,
/// `/db?query`).
fn split_server(url: &str) -> (&str, &str, &str) {
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[start..];
    let end = rest.find(['/', '?']).map_or(url.len(), |i| start + i);
    let host_start = url[start..end].rfind('@').map_or(start, |i| start + i + 1);
    (&url[..host_start], &url[host_start..end], &url[end..])
}

/// `url` with its `host:port` replaced by `address`.
fn through(url: &str, address: &str) -> String {
    let (head, _, tail) = split_server(url);
    format!("{head}{address}{tail}")
}

/// Takes away the stored details of these listings without marking them due, so their
/// details come from the join until they change.
pub fn forget_documents(db: &Db, listing_ids: &[&str]) {
    db.run_blocking(|c| crate::write_tx(c, |c| crate::documents::store(c, &[], listing_ids)))
        .expect("forget documents");
}

/// Replaces the stored detail of the listing with this slug (a document has no trigger),
/// so a test can tell it was served.
pub fn rewrite_document(db: &Db, slug: &str, body: &str) {
    use crate::schema::listing_documents;
    let rows = db.run_blocking(|c| {
        diesel::update(listing_documents::table.filter(listing_documents::slug.eq(slug)))
            .set(listing_documents::body.eq(body))
            .execute(c)
            .map_err(crate::StoreError::from)
    });
    assert_eq!(rows.expect("rewrite document"), 1, "{slug} has a document");
}

/// Every row of every table as a JSON object (text), for tests that look for secrets.
pub fn dump_rows(db: &Db) -> Vec<String> {
    use diesel::sql_types::Text;

    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        row: String,
    }
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = Text)]
        name: String,
    }
    db.run_blocking(|conn| {
        let rows = match conn {
            crate::Conn::Pg(c) => {
                let tables: Vec<Name> = diesel::sql_query(
                    "SELECT table_name::text AS name FROM information_schema.tables \
                     WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
                )
                .load(c)?;
                let mut rows = Vec::new();
                for t in tables {
                    let q = format!("SELECT row_to_json(t)::text AS row FROM \"{}\" t", t.name);
                    rows.extend(diesel::sql_query(q).load::<Row>(c)?.into_iter().map(|r| r.row));
                }
                rows
            }
            crate::Conn::Sqlite(c) => {
                let tables: Vec<Name> = diesel::sql_query(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
                )
                .load(c)?;
                let mut rows = Vec::new();
                for t in tables {
                    let columns: Vec<Name> =
                        diesel::sql_query(format!("SELECT name FROM pragma_table_info('{}')", t.name)).load(c)?;
                    if columns.is_empty() {
                        continue;
                    }
                    let pairs: Vec<String> =
                        columns
                            .iter()
                            .map(|col| {
                                format!(
                                    "'{0}', CASE WHEN typeof(\"{0}\") = 'blob' THEN hex(\"{0}\") ELSE \"{0}\" END",
                                    col.name
                                )
                            })
                            .collect();
                    let q = format!("SELECT json_object({}) AS row FROM \"{}\"", pairs.join(", "), t.name);
                    rows.extend(diesel::sql_query(q).load::<Row>(c)?.into_iter().map(|r| r.row));
                }
                rows
            }
        };
        Ok::<_, crate::StoreError>(rows)
    })
    .expect("dump tables")
}

#[cfg(test)]
mod tests {
    use super::{split_server, through};

    #[test]
    fn urls_are_split_around_their_server() {
        assert_eq!(
            split_server("postgres://postgres@127.0.0.1:5432/x?a=b"),
            ("postgres://postgres@", "127.0.0.1:5432", "/x?a=b")
        );
        assert_eq!(split_server("postgres://db/x"), ("postgres://", "db", "/x"));
        assert_eq!(through("postgres://u:p@h:1/x", "127.0.0.1:9"), "postgres://u:p@127.0.0.1:9/x");
    }
}
