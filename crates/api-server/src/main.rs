//! `api-server`: the AgentPowers API server.

use std::path::PathBuf;

use api_server::config::{Config, SETTINGS_HELP};
use api_server::run;
use clap::{Parser, Subcommand};

/// The AgentPowers marketplace API server.
#[derive(Debug, Parser)]
#[command(version, after_help = SETTINGS_HELP)]
struct Cli {
    /// TOML configuration file (settings below; the environment overrides it).
    #[arg(long, short, env = "AP_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply pending migrations, then serve HTTP until SIGINT/SIGTERM (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref())?;
    run::init_logging(&config);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => run::serve(&config),
        Command::Migrate => run::migrate(&config),
    }
}
