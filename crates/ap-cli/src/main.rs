//! `ap`: the AgentPowers command-line tool, in Rust. It speaks to the server through
//! `ap-client` and keeps the state files the Python `ap` keeps (`~/.agentpowers/…`), so
//! either tool can be used at any moment.
//!
//! Every command of the Python `ap` 0.1.12 under its name, with its arguments and flags,
//! and what that tool lacks: `buy`, `purchases`, `reviews`, `review`, `seller …`,
//! `completions`, `--json` on every command that prints data, progress bars on transfers
//! and colour only on a terminal without `NO_COLOR`.

/// Writes a line to standard output; a closed pipe (`ap search x | head`) is not an error.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// Writes to standard output without a newline; a closed pipe is not an error.
macro_rules! say_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod buyer;
mod commands;
mod installs;
mod local;
mod login;
mod mcp;
mod publish;
mod seller;
mod state;
mod ui;

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
    /// Show your profile, or with --set change it (asks for each field).
    Profile {
        /// Ask for the display name and bio, and save them.
        #[arg(long = "set")]
        set: bool,
        /// Print the profile as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Hide a listing of yours from the marketplace (buyers keep their access).
    Unpublish {
        /// The listing's slug.
        slug: String,
        /// Do not ask for confirmation (for scripts).
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Show an unpublished listing of yours again.
    Republish {
        /// The listing's slug.
        slug: String,
        /// Do not ask for confirmation (for scripts).
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// List what you bought, with license codes.
    Purchases {
        /// Print the purchases as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Read a listing's reviews.
    Reviews {
        /// The listing's slug.
        slug: String,
        /// Print the reviews as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Review a listing you bought or installed (a second review replaces the first).
    Review {
        /// The listing's slug.
        slug: String,
        /// Stars, 1 to 5.
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=5))]
        rating: u8,
        /// What you think (optional).
        #[arg(long)]
        text: Option<String>,
        /// Print the saved review as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Your seller account: payment onboarding, earnings, sales and revenue.
    #[command(subcommand)]
    Seller(SellerCommand),
    /// Install a skill or agent (into ./.claude when the working directory has one, else
    /// ~/.claude; other tools with --for).
    Install {
        /// The listing's slug, or `author/slug`.
        slug: String,
        /// A license code for a paid listing (bought by someone else, or on the web).
        #[arg(long)]
        code: Option<String>,
        /// Only this source; this server's listings are `agentpowers`.
        #[arg(long, short = 's')]
        source: Option<String>,
        #[command(flatten)]
        target: installs::Target,
        /// Install a listing with scan warnings without asking.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Update installed skills to their latest versions (all, or one).
    Update {
        /// The slug to update (all installed ones when absent).
        slug: Option<String>,
        /// Do not ask: update, and overwrite local edits.
        #[arg(long, short = 'f')]
        force: bool,
    },
    /// Remove an installed skill or agent and its pin.
    Uninstall {
        /// The installed slug.
        slug: String,
        /// Do not ask for confirmation.
        #[arg(long, short = 'f')]
        force: bool,
    },
    /// Show installed skills and agents: source, scan verdict, version, install date.
    Status {
        /// Only this source (agentpowers, or local for what no tool installed).
        #[arg(long, short = 's')]
        source: Option<String>,
        /// Print the installs as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check every installed package against the content hash pinned at install.
    Verify {
        /// Print the results as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a listing's security scan, or scan a folder before publishing it.
    Scan {
        /// The listing's slug.
        #[arg(required_unless_present = "dir", conflicts_with = "dir")]
        slug: Option<String>,
        /// A folder to pack and scan instead (nothing is published).
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
        /// What the folder holds (read from it when absent).
        #[arg(long = "type", short = 't', value_parser = ["skill", "agent"])]
        kind: Option<String>,
        /// Print the scan as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Publish the skill or agent in a folder: a new listing, or a new version of yours.
    #[command(disable_version_flag = true)]
    Publish(publish::PublishArgs),
    /// Buy a listing: pay in the browser, then it is installed.
    Buy {
        /// The listing's slug.
        slug: String,
        /// Print the payment address instead of opening a browser.
        #[arg(long)]
        no_browser: bool,
        #[command(flatten)]
        target: installs::Target,
        /// Buy a listing with scan warnings without asking.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Serve the marketplace's tools to an AI tool over MCP (standard input and output).
    Mcp,
    /// Print a shell completion script (e.g. `ap completions bash > ~/.local/share/bash-completion/completions/ap`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
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

/// `ap seller …`.
#[derive(Debug, Subcommand)]
enum SellerCommand {
    /// Whether you can sell, and where payment onboarding stands.
    Status {
        /// Print the status as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Start or continue payment onboarding (opens the link in the browser).
    Onboard {
        /// Print the link instead of opening a browser.
        #[arg(long)]
        no_browser: bool,
    },
    /// Your earnings: net, pending, available, fees, refunds.
    Earnings {
        /// Print the earnings as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Your sales, newest first (the last 30 days by default).
    Sales {
        #[command(flatten)]
        days: DayRange,
        /// Print the sales as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Net revenue per day, week or month, as a bar chart.
    Revenue {
        /// `day` (the default), `week` or `month`.
        #[arg(long, value_parser = ["day", "week", "month"])]
        period: Option<String>,
        #[command(flatten)]
        days: DayRange,
        /// Print the series as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// A range of days (each end the server's default when absent).
#[derive(Debug, clap::Args)]
struct DayRange {
    /// The first day (YYYY-MM-DD).
    #[arg(long)]
    from: Option<String>,
    /// The last day, included (YYYY-MM-DD).
    #[arg(long)]
    to: Option<String>,
}

impl DayRange {
    /// The range as the client asks for it.
    fn days(&self) -> ap_client::Days<'_> {
        ap_client::Days { from: self.from.as_deref(), to: self.to.as_deref() }
    }
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
