//! One connection type over both backends, and the r2d2 plumbing around it.
//!
//! `Conn` is a diesel `MultiConnection`: most queries are written once and run on either
//! backend. The few that differ (full-text search, some upserts) match on the variant
//! with [`with_backend!`](crate::with_backend) so both arms stand side by side.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{CustomizeConnection, ManageConnection};

use crate::error::{StoreError, UnitError};

/// A connection to SQLite or PostgreSQL.
#[derive(diesel::MultiConnection)]
pub enum Conn {
    /// PostgreSQL (production, CI).
    Pg(PgConnection),
    /// Embedded SQLite (the default).
    Sqlite(SqliteConnection),
}

/// Runs the same diesel expression on the inner connection of either backend, for
/// queries that do not compile through the multi-backend type.
#[macro_export]
macro_rules! with_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::conn::Conn::Pg($c) => $body,
            $crate::conn::Conn::Sqlite($c) => $body,
        }
    };
}

/// Which database a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `postgres://` or `postgresql://`.
    Postgres,
    /// `sqlite://path`, `sqlite:path` or a bare file path.
    Sqlite,
}

impl Backend {
    /// Picks the backend from the URL scheme.
    pub fn from_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// The file path of a SQLite URL (`sqlite://data/x.db` → `data/x.db`).
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url)
}

/// A pooled connection with a flag for connections found dead, so the pool drops them.
pub struct Pooled {
    /// The connection.
    pub conn: Conn,
    /// Set when a failed unit of work found the connection no longer answering.
    pub broken: bool,
    /// The pool generation it was opened in (see [`ConnManager::new`]).
    pub generation: u64,
}

impl Pooled {
    /// After `result` failed with a database error, checks whether the connection itself
    /// is gone (the server went away); then marks it broken and answers `Unavailable`.
    pub fn classify<T, E: UnitError>(&mut self, result: Result<T, E>) -> Result<T, E> {
        match result {
            Err(error) => {
                let cause = match error.store_error() {
                    Some(StoreError::Database(cause)) => Some(cause.to_string()),
                    Some(StoreError::Unavailable(cause)) => Some(cause.clone()),
                    _ => None,
                };
                let lost = cause.filter(|_| self.conn.batch_execute("SELECT 1").is_err());
                match lost {
                    Some(cause) => {
                        self.broken = true;
                        Err(StoreError::Unavailable(format!("connection lost: {cause}")).into())
                    }
                    None => Err(error),
                }
            }
            ok => ok,
        }
    }
}

/// An r2d2 connection manager that chooses the backend from the URL scheme, so that a
/// PostgreSQL failure is reported as itself (diesel's derived `establish` would hide it).
#[derive(Debug)]
pub struct ConnManager {
    url: String,
    backend: Backend,
    generation: Arc<AtomicU64>,
}

impl ConnManager {
    /// A manager for `url` (for PostgreSQL, with [`pg_url`]'s defaults). Each connection
    /// remembers the value of `generation` when it was opened.
    pub fn new(url: &str, generation: Arc<AtomicU64>) -> Self {
        let backend = Backend::from_url(url);
        let url = match backend {
            Backend::Postgres => pg_url(url),
            Backend::Sqlite => url.to_owned(),
        };
        Self { url, backend, generation }
    }
}

/// Connection parameters a PostgreSQL URL gets unless it sets them itself: a connect
/// timeout, TCP keepalives, and a TCP user timeout (unacknowledged data fails the
/// connection instead of waiting for the kernel's retransmissions, minutes), so a
/// server that stops answering is noticed in seconds.
const PG_DEFAULTS: [(&str, &str); 6] = [
    ("connect_timeout", "5"),
    ("keepalives", "1"),
    ("keepalives_idle", "30"),
    ("keepalives_interval", "10"),
    ("keepalives_count", "3"),
    ("tcp_user_timeout", "10000"),
];

/// `url` with [`PG_DEFAULTS`] added where it does not set them.
pub fn pg_url(url: &str) -> String {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let set: Vec<&str> = query.split('&').filter_map(|p| p.split('=').next()).collect();
    let mut out = url.to_owned();
    for (name, value) in PG_DEFAULTS {
        if !set.contains(&name) {
            out.push(if out.contains('?') { '&' } else { '?' });
            out.push_str(&format!("{name}={value}"));
        }
    }
    out
}

impl ManageConnection for ConnManager {
    type Connection = Pooled;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Pooled, Self::Error> {
        match self.backend {
            Backend::Postgres => PgConnection::establish(&self.url).map(Conn::Pg),
            Backend::Sqlite => {
                SqliteConnection::establish(sqlite_path(&self.url)).map(Conn::Sqlite)
            }
        }
        .map(|conn| Pooled {
            conn,
            broken: false,
            generation: self.generation.load(Ordering::SeqCst),
        })
        .map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), Self::Error> {
        pooled.conn.batch_execute("SELECT 1").map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        if pooled.broken {
            return true;
        }
        let status = match &mut pooled.conn {
            Conn::Pg(c) => AnsiTransactionManager::transaction_manager_status_mut(c),
            Conn::Sqlite(c) => AnsiTransactionManager::transaction_manager_status_mut(c),
        };
        !matches!(status.transaction_depth(), Ok(None))
    }
}

/// Per-connection settings, applied when the pool opens a connection.
#[derive(Debug, Clone, Copy)]
pub struct SessionSettings {
    /// SQLite: how long a writer waits for the lock before failing with "database is
    /// locked".
    pub busy_timeout: Duration,
    /// PostgreSQL: how long a statement may run before the server cancels it.
    pub statement_timeout: Duration,
}

impl CustomizeConnection<Pooled, diesel::r2d2::Error> for SessionSettings {
    fn on_acquire(&self, pooled: &mut Pooled) -> Result<(), diesel::r2d2::Error> {
        if let Conn::Pg(c) = &mut pooled.conn {
            c.batch_execute(&format!(
                "SET statement_timeout = {}",
                self.statement_timeout.as_millis().max(1)
            ))
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        if let Conn::Sqlite(c) = &mut pooled.conn {
            // WAL lets readers run beside the single writer. synchronous=FULL: a committed
            // purchase or token must survive a power cut, and writes are rare next to reads.
            c.batch_execute(&format!(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {};",
                self.busy_timeout.as_millis()
            ))
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

thread_local! {
    /// Set while a unit of work runs under [`Db::run`](crate::Db::run): whether its caller
    /// has already been answered (its deadline passed).
    static GIVEN_UP: RefCell<Option<Arc<AtomicBool>>> = const { RefCell::new(None) };
}

/// Runs `f` on this thread with `given_up` as its unit of work's flag, so that a
/// [`write_tx`] inside rolls back once the caller has been answered.
pub(crate) fn under_deadline<T>(given_up: &Arc<AtomicBool>, f: impl FnOnce() -> T) -> T {
    GIVEN_UP.with(|flag| *flag.borrow_mut() = Some(Arc::clone(given_up)));
    let result = f();
    GIVEN_UP.with(|flag| *flag.borrow_mut() = None);
    result
}

/// Whether the caller of the unit of work running on this thread was already answered.
fn caller_gone() -> bool {
    GIVEN_UP.with(|flag| flag.borrow().as_ref().is_some_and(|f| f.load(Ordering::SeqCst)))
}

/// Runs `f` in a write transaction and commits it, or rolls back on error: a refusal
/// (any `Err` of the caller's error type) leaves nothing behind. When the unit of work
/// outlived its deadline (its caller was answered 503), it rolls back too: what the
/// caller was told failed did not happen.
///
/// On SQLite this is `BEGIN IMMEDIATE`: the write lock is taken up front, so a unit of
/// work that reads before it writes waits for other writers (busy timeout) instead of
/// failing when another write committed in between.
pub fn write_tx<T, E: From<StoreError>>(
    conn: &mut Conn,
    f: impl FnOnce(&mut Conn) -> Result<T, E>,
) -> Result<T, E> {
    match conn {
        Conn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE"),
        Conn::Pg(c) => AnsiTransactionManager::begin_transaction(c),
    }
    .map_err(StoreError::from)?;
    let result = f(conn).and_then(|value| {
        if caller_gone() {
            Err(StoreError::Unavailable("the caller's deadline passed; rolled back".into()).into())
        } else {
            Ok(value)
        }
    });
    let finish = match (&result, &mut *conn) {
        (Ok(_), Conn::Sqlite(c)) => AnsiTransactionManager::commit_transaction(c),
        (Ok(_), Conn::Pg(c)) => AnsiTransactionManager::commit_transaction(c),
        (Err(_), Conn::Sqlite(c)) => AnsiTransactionManager::rollback_transaction(c),
        (Err(_), Conn::Pg(c)) => AnsiTransactionManager::rollback_transaction(c),
    };
    match (result, finish) {
        (Ok(value), Ok(())) => Ok(value),
        (Ok(_), Err(commit_error)) => Err(StoreError::from(commit_error).into()),
        (Err(error), _) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::pg_url;

    #[test]
    fn postgres_urls_get_timeouts_they_do_not_set() {
        let url = pg_url("postgres://u@db:5432/app");
        for part in
            ["connect_timeout=5", "keepalives=1", "keepalives_idle=30", "tcp_user_timeout=10000"]
        {
            assert!(url.contains(part), "{url}");
        }
        assert!(url.starts_with("postgres://u@db:5432/app?connect_timeout=5&"), "{url}");
        let own = pg_url("postgres://u@db/app?sslmode=require&connect_timeout=2");
        assert!(own.contains("connect_timeout=2") && !own.contains("connect_timeout=5"), "{own}");
        assert!(
            own.starts_with("postgres://u@db/app?sslmode=require&connect_timeout=2&keepalives=1")
        );
    }
}
