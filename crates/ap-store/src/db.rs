//! The connection pool and [`Db::run`], the one way a unit of work reaches the database.

use std::sync::Arc;
use std::time::Duration;

use diesel::r2d2::Pool;

use crate::conn::{Backend, Conn, ConnManager, SqlitePragmas, sqlite_path};
use crate::error::StoreError;
use crate::migrate;

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct DbConfig {
    /// `sqlite://path/to/file.db` or `postgres://user@host/db`.
    pub url: String,
    /// Most connections the pool holds.
    pub max_connections: u32,
    /// How long a request waits for a connection before it is answered 503.
    pub acquire_timeout: Duration,
    /// SQLite only: how long a writer waits for the write lock.
    pub busy_timeout: Duration,
}

impl DbConfig {
    /// Defaults for `url`: 8 connections, 5 s acquire timeout, 5 s busy timeout.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 8,
            acquire_timeout: Duration::from_secs(5),
            busy_timeout: Duration::from_secs(5),
        }
    }
}

/// A pooled database handle; cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: Arc<Pool<ConnManager>>,
    backend: Backend,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("backend", &self.backend).finish_non_exhaustive()
    }
}

impl Db {
    /// Opens the pool (creating the SQLite file's folder if needed) and checks that one
    /// connection can be made. Does not migrate: see [`Db::migrate`].
    pub fn open(config: &DbConfig) -> Result<Db, StoreError> {
        let backend = Backend::from_url(&config.url);
        if backend == Backend::Sqlite {
            let path = std::path::Path::new(sqlite_path(&config.url));
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
        }
        let pool = Pool::builder()
            .max_size(config.max_connections.max(1))
            .min_idle(Some(1))
            .connection_timeout(config.acquire_timeout)
            .connection_customizer(Box::new(SqlitePragmas { busy_timeout: config.busy_timeout }))
            .build(ConnManager::new(&config.url))?;
        Ok(Db { pool: Arc::new(pool), backend })
    }

    /// Which backend this handle talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies pending migrations; answers their versions.
    pub fn migrate(&self) -> Result<Vec<String>, StoreError> {
        self.run_blocking(migrate::run_pending)
    }

    /// Runs one unit of work on the blocking thread pool with a pooled connection.
    /// The connection never crosses an `.await`; the closure owns any transaction.
    pub async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut Conn) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.run_blocking(f))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Runs one unit of work on the current thread (for tools and start-up, never on an
    /// async worker).
    pub fn run_blocking<T>(
        &self,
        f: impl FnOnce(&mut Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.pool.get()?;
        f(&mut conn)
    }
}
