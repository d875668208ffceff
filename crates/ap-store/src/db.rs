//! The connection pool and [`Db::run`], the one way a unit of work reaches the database.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use diesel::RunQueryDsl;
use diesel::r2d2::{Pool, PooledConnection};

use crate::conn::{
    Backend, Conn, ConnManager, Pooled, SessionSettings, sqlite_path, under_deadline,
};
use crate::error::{StoreError, UnitError};
use crate::migrate;

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct DbConfig {
    /// `sqlite://path/to/file.db` or `postgres://user@host/db`.
    pub url: String,
    /// Most connections the pool holds; 0 = [`default_pool_size`] of the backend.
    pub max_connections: u32,
    /// How long a request waits for a connection before it is answered 503.
    pub acquire_timeout: Duration,
    /// SQLite only: how long a writer waits for the write lock.
    pub busy_timeout: Duration,
    /// PostgreSQL only: the longest a statement may run before the server cancels it
    /// (its unit of work then fails and answers 503).
    pub statement_timeout: Duration,
    /// The longest a unit of work may take from its start (waiting included) before its
    /// caller is answered 503; the connection it holds is discarded when it finishes.
    pub work_timeout: Duration,
}

impl DbConfig {
    /// Defaults for `url`: the backend's pool size, 5 s acquire timeout, 5 s busy timeout, 30 s
    /// statement timeout, 15 s work timeout.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 0,
            acquire_timeout: Duration::from_secs(5),
            busy_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
            work_timeout: Duration::from_secs(15),
        }
    }
}

/// The pool size when none is set. SQLite's statements run on this process's own cores
/// and never wait on a network: two connections per core keep them busy, and more only
/// queue runnable threads on them (measured on one core: eight connections cost 8 % more
/// CPU per uncached search than two and doubled its p99; docs/PERFORMANCE.md).
/// PostgreSQL's connections spend their time waiting on round trips: 8 overlap them.
pub fn default_pool_size(backend: Backend) -> u32 {
    match backend {
        Backend::Sqlite => {
            let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
            u32::try_from(cores.saturating_mul(2)).unwrap_or(u32::MAX)
        }
        Backend::Postgres => 8,
    }
}

/// A pooled database handle; cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: Arc<Pool<ConnManager>>,
    /// One permit per connection: units of work beyond that wait here, asynchronously,
    /// instead of parking a blocking thread each on the pool's lock.
    permits: Arc<tokio::sync::Semaphore>,
    acquire_timeout: Duration,
    work_timeout: Duration,
    /// Bumped when a connection is found lost: connections opened before that are
    /// discarded at checkout instead of each failing one request.
    generation: Arc<AtomicU64>,
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
        let size = match config.max_connections {
            0 => default_pool_size(backend),
            set => set,
        };
        let generation = Arc::new(AtomicU64::new(0));
        let pool = Pool::builder()
            .max_size(size)
            // Broken connections show as failing queries (and `has_broken`); a `SELECT 1`
            // before every checkout would cost a round trip per unit of work.
            .test_on_check_out(false)
            .min_idle(Some(1))
            .connection_timeout(config.acquire_timeout)
            .connection_customizer(Box::new(SessionSettings {
                busy_timeout: config.busy_timeout,
                statement_timeout: config.statement_timeout,
            }))
            .build(ConnManager::new(&config.url, Arc::clone(&generation)))?;
        let permits = Arc::new(tokio::sync::Semaphore::new(size as usize));
        Ok(Db {
            pool: Arc::new(pool),
            permits,
            acquire_timeout: config.acquire_timeout,
            work_timeout: config.work_timeout,
            generation,
            backend,
        })
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
    ///
    /// The unit of work answers the caller's own error type, so a refusal inside a
    /// transaction is a plain `Err` that rolls it back.
    ///
    /// Deadlines: waiting for a connection is bounded by the acquire timeout, the whole
    /// unit by the work timeout. Past the work deadline the caller is answered
    /// `Unavailable` at once; the blocking thread cannot be interrupted, so it keeps its
    /// permit (the pool is never oversubscribed), a [`write_tx`](crate::write_tx) it is
    /// in rolls back instead of committing (the caller was told it failed), and its
    /// connection is discarded when it returns; the pool opens a fresh one.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Conn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: UnitError,
    {
        self.run_within(Some(self.work_timeout), f).await
    }

    /// [`Db::run`] without the work deadline, for background jobs whose length grows
    /// with the data (rebuilding the search index); only the wait for a connection is
    /// bounded.
    pub async fn run_unbounded<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Conn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: UnitError,
    {
        self.run_within(None, f).await
    }

    async fn run_within<T, E, F>(&self, work_timeout: Option<Duration>, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Conn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: UnitError,
    {
        let started = tokio::time::Instant::now();
        let wait = work_timeout.map_or(self.acquire_timeout, |w| self.acquire_timeout.min(w));
        let acquire_deadline = started + wait;
        let permit =
            tokio::time::timeout_at(acquire_deadline, self.permits.clone().acquire_owned())
                .await
                .map_err(|_| StoreError::Unavailable("timed out waiting for a connection".into()))?
                .map_err(|e| StoreError::Task(e.to_string()))?;
        let db = self.clone();
        let abandoned = Arc::new(AtomicBool::new(false));
        let gave_up = Arc::clone(&abandoned);
        let work = tokio::task::spawn_blocking(move || {
            let remaining = acquire_deadline.saturating_duration_since(tokio::time::Instant::now());
            let mut pooled = db.checkout(remaining)?;
            metrics::histogram!("ap_db_pool_wait_seconds").record(started.elapsed().as_secs_f64());
            let result = under_deadline(&gave_up, || f(&mut pooled.conn));
            let result = db.classify(&mut pooled, result);
            if gave_up.load(Ordering::SeqCst) {
                pooled.broken = true;
            }
            drop(pooled);
            drop(permit);
            result
        });
        let Some(limit) = work_timeout else {
            return work.await.map_err(|e| StoreError::Task(e.to_string()))?;
        };
        match tokio::time::timeout_at(started + limit, work).await {
            Ok(joined) => joined.map_err(|e| StoreError::Task(e.to_string()))?,
            Err(_) => {
                abandoned.store(true, Ordering::SeqCst);
                Err(StoreError::Unavailable("the unit of work outlived its deadline".into()).into())
            }
        }
    }

    /// A pooled connection within `wait`, skipping (and discarding) connections opened
    /// before the last loss was noticed.
    fn checkout(&self, wait: Duration) -> Result<PooledConnection<ConnManager>, StoreError> {
        let deadline = std::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let mut pooled = self.pool.get_timeout(left.max(Duration::from_millis(1)))?;
            if pooled.generation >= self.generation.load(Ordering::SeqCst) {
                return Ok(pooled);
            }
            pooled.broken = true;
        }
    }

    /// [`Pooled::classify`], and when the connection turned out lost, retires every
    /// connection opened before it.
    fn classify<T, E: UnitError>(&self, pooled: &mut Pooled, result: Result<T, E>) -> Result<T, E> {
        let result = pooled.classify(result);
        if pooled.broken {
            self.generation.fetch_max(pooled.generation + 1, Ordering::SeqCst);
        }
        result
    }

    /// Writes a consistent copy of a SQLite database to `target` while it keeps serving
    /// (`VACUUM INTO`: one read transaction, so every table is seen at the same moment;
    /// the copy is compact and has no WAL). `target` must not exist. PostgreSQL has its
    /// own tools (`pg_dump`): answers `Unsupported` there.
    pub fn backup_sqlite(&self, target: &std::path::Path) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Unsupported("backups of PostgreSQL are pg_dump's job"));
        }
        if target.exists() {
            return Err(StoreError::Io(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("{} exists already", target.display()),
            )));
        }
        let target = target.to_string_lossy().into_owned();
        self.run_blocking(|conn| {
            if let Conn::Sqlite(c) = conn {
                diesel::sql_query("VACUUM INTO ?")
                    .bind::<diesel::sql_types::Text, _>(&target)
                    .execute(c)?;
            }
            Ok::<_, StoreError>(())
        })
    }

    /// The pool now: connections in use, open, and its size.
    pub fn pool_state(&self) -> (u32, u32, u32) {
        let state = self.pool.state();
        let in_use = state.connections.saturating_sub(state.idle_connections);
        (in_use, state.connections, self.pool.max_size())
    }

    /// Whether the database answers: one trivial statement, within the acquire timeout
    /// (`GET /ready`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.run(|conn| {
            diesel::connection::SimpleConnection::batch_execute(conn, "SELECT 1")?;
            Ok::<_, StoreError>(())
        })
        .await
    }

    /// Runs one unit of work on the current thread (for tools and start-up, never on an
    /// async worker).
    pub fn run_blocking<T, E: UnitError>(
        &self,
        f: impl FnOnce(&mut Conn) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut pooled = self.checkout(self.acquire_timeout)?;
        let result = f(&mut pooled.conn);
        self.classify(&mut pooled, result)
    }
}
