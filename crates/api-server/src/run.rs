//! Wiring: logging, database, state and the HTTP server, for the `serve` and `migrate`
//! subcommands.

use std::net::TcpListener;
use std::time::Duration;

use anyhow::Context;
use ap_api::{ApiConfig, AppState, ServerOptions};
use ap_store::Db;

use crate::config::{Config, LogFormat};

/// Installs the global `tracing` subscriber (text or JSON lines on stderr).
pub fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log.level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match config.log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// Opens the database and applies pending migrations.
pub fn open_and_migrate(config: &Config) -> anyhow::Result<Db> {
    let db = Db::open(&config.db_config()).context("opening the database")?;
    let applied = db.migrate().context("applying migrations")?;
    if !applied.is_empty() {
        tracing::info!(?applied, "migrations applied");
    }
    Ok(db)
}

/// `api-server migrate`.
pub fn migrate(config: &Config) -> anyhow::Result<()> {
    open_and_migrate(config).map(drop)
}

/// `api-server serve`: migrates, then serves until SIGINT/SIGTERM.
pub fn serve(config: &Config) -> anyhow::Result<()> {
    let db = open_and_migrate(config)?;
    let state = AppState::new(
        db,
        ApiConfig {
            cache_ttl: Duration::from_secs(config.cache.ttl_secs),
            bench_routes: config.server.bench_routes,
        },
    );
    let listener = TcpListener::bind(&config.server.bind)
        .with_context(|| format!("binding {}", config.server.bind))?;
    let workers = match config.server.workers {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let options =
        ServerOptions { workers, shutdown_timeout_secs: config.server.shutdown_timeout_secs };
    tracing::info!(address = %listener.local_addr()?, workers, backend = ?state.db().backend(), "serving");
    actix_web::rt::System::new()
        .block_on(async move { ap_api::server(state, listener, &options)?.await })?;
    tracing::info!("stopped");
    Ok(())
}
