//! `cargo xtask`: project tasks (migrate, seed, reset, bench, tidy).

mod bench;
mod bench_files;
mod bench_pages;
mod bench_sellers;
mod demo;
mod seed;
mod tidy;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use ap_domain::clock::ManualClock;
use ap_store::{Db, migrate};
use api_server::{Config, run};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(about = "AgentPowers project tasks")]
struct Cli {
    /// Database URL (else the server's setting: AP_DATABASE__URL, DATABASE_URL, or its
    /// default).
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Data folder for archives (else the server's setting: AP_STORAGE__DATA_DIR, or
    /// `data`).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply pending migrations.
    Migrate,
    /// Migrate, then write the demo marketplace (or synthetic listings with --scale).
    Seed {
        /// Do nothing when the catalog already has listings.
        #[arg(long)]
        if_empty: bool,
        /// Write this many synthetic listings instead of the demo marketplace.
        #[arg(long)]
        scale: Option<usize>,
    },
    /// Revert every migration, delete stored archives (of the local store; an S3 bucket is
    /// left as it is), and migrate again (an empty catalog).
    Reset,
    /// Run a benchmark and print its figures (see docs/PERFORMANCE.md).
    Bench {
        #[command(subcommand)]
        suite: BenchSuite,
    },
    /// Check workspace invariants: forbidden dependencies, licences, migration folders, the
    /// README settings table.
    Tidy,
}

#[derive(Debug, Subcommand)]
enum BenchSuite {
    /// Catalog reads over 100,000 listings: detail, list pages, narrow and broad search,
    /// and mixes of browse, detail and search traffic.
    Catalog {
        /// Run on a scratch database created on this PostgreSQL server (admin URL)
        /// instead of a SQLite file.
        #[arg(long, value_name = "URL")]
        postgres: Option<String>,
    },
    /// Signed downloads against a bare file read, and scan throughput.
    Files,
    /// A seller's figures over 100,000 sales in two years.
    Sellers,
    /// The storefront's pages on the demo marketplace, one request at a time.
    Pages,
}

/// The server's configuration (its defaults, `AP_CONFIG`, the `AP_` environment), with
/// the database and data folder given on the command line, if any.
fn config(cli: &Cli) -> anyhow::Result<Config> {
    let file = std::env::var_os("AP_CONFIG").map(PathBuf::from);
    let mut config = Config::load(file.as_deref())?;
    if let Some(url) = &cli.database_url {
        config.database.url = url.clone();
    }
    if let Some(dir) = &cli.data_dir {
        config.storage.data_dir = dir.clone();
    }
    Ok(config)
}

fn open(config: &Config) -> anyhow::Result<Db> {
    Db::open(&config.db_config()).context("opening the database")
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = config(&cli)?;
    let archives = config.storage.data_dir.join("archives");
    match cli.command {
        Command::Migrate => {
            let applied = open(&config)?.migrate()?;
            println!("applied {} migration(s)", applied.len());
        }
        Command::Seed { if_empty, scale } => {
            let db = open(&config)?;
            db.migrate()?;
            if if_empty && seed::has_listings(&db)? {
                println!("catalog already seeded");
                return Ok(());
            }
            let started = Instant::now();
            match scale {
                Some(count) => seed::scale(&db, run::blob_store(&config)?.as_ref(), count)?,
                None => {
                    let clock = ManualClock::new(chrono::Utc::now());
                    let market = run::market(&config, db.clone(), Arc::new(clock.clone()), None)?;
                    seed::demo(&db, &market, &clock)?;
                }
            }
            println!("seeded in {:.1} s", started.elapsed().as_secs_f64());
        }
        Command::Reset => {
            let db = open(&config)?;
            db.run_blocking(migrate::revert_all)?;
            if archives.exists() {
                std::fs::remove_dir_all(&archives)?;
            }
            db.migrate()?;
            println!("database and archives reset");
        }
        Command::Bench { suite } => {
            let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
            match suite {
                BenchSuite::Catalog { postgres } => {
                    bench::catalog(&workspace, postgres.as_deref())?
                }
                BenchSuite::Files => bench_files::files(&workspace)?,
                BenchSuite::Sellers => bench_sellers::sellers(&workspace)?,
                BenchSuite::Pages => bench_pages::pages(&workspace, &config)?,
            }
        }
        Command::Tidy => tidy::run(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."))?,
    }
    Ok(())
}
