//! `cargo xtask`: project tasks (migrate, seed, reset, bench).

mod bench;
mod bench_files;
mod demo;
mod seed;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use ap_store::blobs::LocalBlobs;
use ap_store::{Db, DbConfig, migrate};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(about = "AgentPowers project tasks")]
struct Cli {
    /// Database URL (else AP_DATABASE__URL, DATABASE_URL, or the server's default).
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Data folder for archives (else AP_STORAGE__DATA_DIR, or `data`).
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
    /// Revert every migration, delete stored archives, and migrate again (an empty catalog).
    Reset,
    /// Run a benchmark and print its figures (see docs/PERFORMANCE.md).
    Bench {
        #[command(subcommand)]
        suite: BenchSuite,
    },
}

#[derive(Debug, Subcommand)]
enum BenchSuite {
    /// Catalog reads over 100,000 listings: detail, list pages, narrow and broad search.
    Catalog,
    /// Signed downloads against a bare file read, and scan throughput.
    Files,
}

fn database_url(cli: &Cli) -> String {
    cli.database_url
        .clone()
        .or_else(|| std::env::var("AP_DATABASE__URL").ok())
        .or_else(|| std::env::var("DATABASE_URL").ok())
        .unwrap_or_else(|| "sqlite://data/agentpowers.db".to_owned())
}

fn data_dir(cli: &Cli) -> PathBuf {
    cli.data_dir
        .clone()
        .or_else(|| std::env::var_os("AP_STORAGE__DATA_DIR").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("data"))
}

fn open(cli: &Cli) -> anyhow::Result<Db> {
    Db::open(&DbConfig::new(database_url(cli))).context("opening the database")
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let archives = data_dir(&cli).join("archives");
    let blobs = Arc::new(LocalBlobs::new(&archives));
    match cli.command {
        Command::Migrate => {
            let applied = open(&cli)?.migrate()?;
            println!("applied {} migration(s)", applied.len());
        }
        Command::Seed { if_empty, scale } => {
            let db = open(&cli)?;
            db.migrate()?;
            if if_empty && seed::has_listings(&db)? {
                println!("catalog already seeded");
                return Ok(());
            }
            let started = Instant::now();
            match scale {
                Some(count) => seed::scale(&db, blobs.as_ref(), count)?,
                None => seed::demo(&db, blobs)?,
            }
            println!("seeded in {:.1} s", started.elapsed().as_secs_f64());
        }
        Command::Reset => {
            let db = open(&cli)?;
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
                BenchSuite::Catalog => bench::catalog(&workspace)?,
                BenchSuite::Files => bench_files::files(&workspace)?,
            }
        }
    }
    Ok(())
}
