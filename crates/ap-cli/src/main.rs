//! `ap`: the AgentPowers command-line tool, in Rust. It speaks to the server through
//! `ap-client` and keeps the state files the Python `ap` keeps (`~/.agentpowers/…`), so
//! either tool can be used at any moment.
//!
//! This first part has the account and catalog commands: `login`, `logout`, `whoami`,
//! `search`, `detail`. Output is plain text (no colour, so `NO_COLOR` holds), or JSON with
//! `--json`.

mod commands;
mod login;
mod state;

use clap::{Parser, Subcommand};

/// The AgentPowers marketplace from the terminal. The server is `AGENTPOWERS_API_URL`
/// (default the hosted one).
#[derive(Debug, Parser)]
#[command(name = "ap", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sign in through the browser and store a CLI token in ~/.agentpowers/auth.json.
    Login {
        /// Print the sign-in address instead of opening a browser (for machines without
        /// one: open it anywhere that can reach the server and this machine's loopback).
        #[arg(long)]
        no_browser: bool,
    },
    /// Revoke the CLI token on the server and forget it here.
    Logout,
    /// Show who the stored token signs in as.
    Whoami {
        /// Print the account as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Search the marketplace for skills and agents.
    Search {
        /// The words to look for (no quotes needed).
        #[arg(required = true)]
        query: Vec<String>,
        /// Only this category (a slug, see the server's categories).
        #[arg(long, short = 'c')]
        category: Option<String>,
        /// Only skills or only agents.
        #[arg(long = "type", short = 't', value_parser = ["skill", "agent"])]
        kind: Option<String>,
        /// Only this source; this server's listings are `agentpowers`.
        #[arg(long, short = 's')]
        source: Option<String>,
        /// How many results at most (1–100).
        #[arg(long, short = 'l', default_value_t = 20)]
        limit: i64,
        /// Print the results as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a listing: author, price, versions and its security scan.
    Detail {
        /// The listing's slug.
        slug: String,
        /// Only this source; this server's listings are `agentpowers`.
        #[arg(long, short = 's')]
        source: Option<String>,
        /// Show each finding of the security scan.
        #[arg(long)]
        scan: bool,
        /// Print the listing as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match commands::run(cli.command).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("Error: {}", commands::explain(&error));
            std::process::ExitCode::FAILURE
        }
    }
}
