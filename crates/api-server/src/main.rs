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
    /// Grant or revoke the admin role (recorded in the audit log with the reason; the API
    /// cannot do this).
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// Write a consistent copy of the SQLite database to FILE while the server keeps
    /// running (PostgreSQL: use pg_dump).
    Backup {
        /// Where to write the copy (must not exist).
        file: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum AdminAction {
    /// Make the account with this e-mail address an administrator.
    Grant {
        /// The account's e-mail address.
        email: String,
        /// Why (recorded in the audit log).
        #[arg(long)]
        reason: String,
    },
    /// Take the admin role from the account with this e-mail address.
    Revoke {
        /// The account's e-mail address.
        email: String,
        /// Why (recorded in the audit log).
        #[arg(long)]
        reason: String,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref())?;
    run::init_logging(&config);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => run::serve(&config),
        Command::Migrate => run::migrate(&config),
        Command::Admin { action: AdminAction::Grant { email, reason } } => {
            run::admin(&config, &email, &reason, true)
        }
        Command::Admin { action: AdminAction::Revoke { email, reason } } => {
            run::admin(&config, &email, &reason, false)
        }
        Command::Backup { file } => run::backup(&config, &file),
    }
}
