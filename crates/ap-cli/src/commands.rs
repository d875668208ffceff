//! What each command does, through `ap-client`.

use ap_client::{Client, Error, SearchQuery};
use ap_domain::listing::ListingType;
use ap_domain::wire::{ListingSummary, NATIVE_SOURCE};

use crate::{Command, buyer, installs, login, publish, seller, state};

/// Runs `command`.
pub async fn run(command: Command) -> anyhow::Result<()> {
    let client = Client::from_env()?;
    let signed_in = || signed(&client);
    match command {
        Command::Install { slug, code, source, target, yes } => {
            only_ours(source.as_deref())?;
            installs::install(&client, &slug, code.as_deref(), &target, yes).await?
        }
        Command::Update { slug, force } => {
            installs::update(&client, slug.as_deref(), force).await?
        }
        Command::Uninstall { slug, force } => installs::uninstall(&slug, force).await?,
        Command::Status { source, json } => installs::status(source.as_deref(), json).await?,
        Command::Verify { json } => installs::verify(json).await?,
        Command::Scan { slug, dir, kind, json } => {
            let kind =
                kind.map(|k| if k == "agent" { ListingType::Agent } else { ListingType::Skill });
            publish::scan(&client, slug.as_deref(), dir.as_deref(), kind, json).await?
        }
        Command::Publish(args) => publish::publish(&signed_in()?, &args).await?,
        Command::Buy { slug, no_browser, target, yes } => {
            buyer::buy(&signed_in()?, &slug, &target, no_browser, yes).await?
        }
        Command::Mcp => crate::mcp::serve(client.clone()).await?,
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(
                shell,
                &mut crate::Cli::command(),
                "ap",
                &mut std::io::stdout(),
            );
        }
        Command::Login { no_browser } => {
            login::sign_in(&client, no_browser).await?;
            say!("Logged in successfully!");
        }
        Command::Logout => {
            login::sign_out(&client).await?;
            say!("Logged out.");
        }
        Command::Whoami { json } => {
            let me = signed_in()?.me().await?;
            if json {
                say!("{}", serde_json::to_string_pretty(&me)?);
            } else {
                say!("Email:  {}", me.email.as_deref().unwrap_or("unknown"));
                if let Some(name) = me.display_name.as_deref().or(me.name.as_deref()) {
                    say!("Name:   {name}");
                }
                say!("Seller: {}", if me.is_seller { "yes" } else { "no" });
            }
        }
        Command::Search { query, category, kind, source, limit, json } => {
            let words = query.join(" ");
            if words.trim().is_empty() {
                anyhow::bail!("Search query cannot be empty.");
            }
            let kind = kind
                .as_deref()
                .map(|k| if k == "agent" { ListingType::Agent } else { ListingType::Skill });
            let ours = source.as_deref().is_none_or(|s| s == NATIVE_SOURCE || s == "all");
            let found = if ours {
                let query =
                    SearchQuery { q: words, kind, category, limit: Some(limit), offset: None };
                client.search(&query).await?.items
            } else {
                Vec::new()
            };
            if json {
                say!("{}", serde_json::to_string_pretty(&found)?);
            } else {
                say_raw!("{}", results_table(&found, terminal_width()));
            }
        }
        Command::Profile { set, json } => profile(&signed_in()?, set, json).await?,
        Command::Unpublish { slug, yes } => {
            seller::archive(&signed_in()?, &slug, true, yes).await?
        }
        Command::Republish { slug, yes } => {
            seller::archive(&signed_in()?, &slug, false, yes).await?
        }
        Command::Purchases { json } => buyer::purchases(&signed_in()?, json).await?,
        Command::Reviews { slug, json } => {
            buyer::reviews(&client, valid_slug(&slug)?, json).await?
        }
        Command::Review { slug, rating, text, json } => {
            let slug = valid_slug(&slug)?;
            buyer::review(&signed_in()?, slug, rating, text.as_deref(), json).await?;
        }
        Command::Seller(command) => seller::run(&signed_in()?, command).await?,
        Command::Detail { slug, source, scan, json } => {
            only_ours(source.as_deref())?;
            let slug = valid_slug(&slug)?;
            let detail = client.detail(slug).await?;
            let results = if scan { Some(client.security_results(slug).await?) } else { None };
            if json {
                let mut value = serde_json::to_value(&detail)?;
                if let Some(results) = &results {
                    value["scan"] = serde_json::to_value(results)?;
                }
                say!("{}", serde_json::to_string_pretty(&value)?);
            } else {
                say_raw!("{}", detail_text(&detail.detail, results.as_ref()));
            }
        }
    }
    Ok(())
}

/// `client` signed in with the stored token, or the refusal to go on without one.
pub fn signed(client: &Client) -> anyhow::Result<Client> {
    match state::token()? {
        Some(token) => Ok(client.with_token(token)),
        None => anyhow::bail!("Not logged in. Run `ap login` first."),
    }
}

/// Refuses a `--source` other than this server's own (`agentpowers`, or `all`).
pub fn only_ours(source: Option<&str>) -> anyhow::Result<()> {
    if source.is_some_and(|s| s != NATIVE_SOURCE && s != "all") {
        anyhow::bail!("This server has only `{NATIVE_SOURCE}` listings.");
    }
    Ok(())
}

/// `slug` checked as the Python tool checks it (lower-case letters, digits and hyphens,
/// 1–128, starting with a letter or digit), before it reaches the server.
pub fn valid_slug(slug: &str) -> anyhow::Result<&str> {
    let slug = slug.trim();
    let mut chars = slug.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !first_ok || !rest_ok || slug.len() > 128 {
        anyhow::bail!(
            "Invalid slug '{slug}'. Slugs must contain only lowercase letters, digits, and hyphens."
        );
    }
    Ok(slug)
}

/// A failure in words for the terminal.
pub fn explain(error: &anyhow::Error) -> String {
    match error.downcast_ref::<Error>() {
        Some(Error::Api { status: 401, .. }) => {
            "Not logged in (or the token was revoked). Run `ap login` first.".to_owned()
        }
        Some(Error::Api { message, code, .. }) => {
            let code = serde_json::to_value(code).ok();
            format!("{message} ({})", code.as_ref().and_then(|c| c.as_str()).unwrap_or("?"))
        }
        Some(Error::Transport(error)) if error.is_connect() || error.is_timeout() => format!(
            "Cannot reach the server at {}: {error}",
            std::env::var(ap_client::API_URL_ENV)
                .unwrap_or_else(|_| ap_client::DEFAULT_API_URL.to_owned())
        ),
        _ => format!("{error:#}"),
    }
}

/// `value` as indented JSON on standard output.
pub fn json_out(value: &impl serde::Serialize) -> anyhow::Result<()> {
    say!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Asks `question` on the terminal; yes only for `y` or `yes` (no answer at all is no).
pub fn confirm(question: &str) -> anyhow::Result<bool> {
    eprint!("{question} [y/N]: ");
    let answer = answer()?.unwrap_or_default();
    Ok(matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes"))
}

/// Asks for a value on the terminal; an empty answer keeps `current`.
pub fn ask(question: &str, current: &str) -> anyhow::Result<String> {
    if current.is_empty() {
        eprint!("{question}: ");
    } else {
        eprint!("{question} [{current}]: ");
    }
    let Some(answer) = answer()? else {
        anyhow::bail!("No answer to \"{question}\" (standard input is closed).");
    };
    Ok(if answer.is_empty() { current.to_owned() } else { answer })
}

/// The next line of standard input, trimmed; `None` when it is closed.
fn answer() -> anyhow::Result<Option<String>> {
    use std::io::Write;
    std::io::stderr().flush()?;
    let mut line = String::new();
    if std::io::stdin().read_line(&mut line)? == 0 {
        return Ok(None);
    }
    Ok(Some(line.trim().to_owned()))
}

/// `ap profile [--set]`.
async fn profile(client: &Client, set: bool, json: bool) -> anyhow::Result<()> {
    let mut profile = client.profile().await?;
    if set {
        let name = ask("Display name", profile.display_name.as_deref().unwrap_or(""))?;
        let bio = ask("Bio (optional)", profile.bio.as_deref().unwrap_or(""))?;
        let mut changes = serde_json::Map::new();
        if !name.is_empty() {
            changes.insert("display_name".to_owned(), name.into());
        }
        changes.insert("bio".to_owned(), bio.into());
        profile = client.update_profile(&changes).await?;
        if !json {
            say!("Profile updated!");
        }
    }
    if json {
        return json_out(&profile);
    }
    let or_unset = |v: &Option<String>| v.clone().unwrap_or_else(|| "not set".to_owned());
    say!("Display name: {}", or_unset(&profile.display_name));
    say!("Bio:          {}", or_unset(&profile.bio));
    say!("Email:        {}", or_unset(&profile.email));
    if let Some(slug) = &profile.display_name_slug {
        say!("Seller page:  /sellers/{slug}");
    }
    Ok(())
}

/// Columns to fit: `COLUMNS`, else 100.
pub fn terminal_width() -> usize {
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).filter(|w| *w >= 40).unwrap_or(100)
}

/// Cents as `Free` or `$x.yy`.
pub fn price(cents: i64) -> String {
    if cents == 0 {
        return "Free".to_owned();
    }
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}${}.{:02}", abs / 100, abs % 100)
}

fn rating(average: Option<f64>, count: i64) -> String {
    average.map_or_else(|| "-".to_owned(), |a| format!("{a:.1} ({count})"))
}

/// The results as a table `width` characters wide (the title column takes what is left).
fn results_table(found: &[ListingSummary], width: usize) -> String {
    if found.is_empty() {
        return "No results found.\n".to_owned();
    }
    let rows: Vec<[String; 5]> = found
        .iter()
        .map(|l| {
            [
                l.slug.clone(),
                l.listing_type.as_str().to_owned(),
                price(l.price_cents),
                rating(l.rating_average, l.rating_count),
                l.title.clone(),
            ]
        })
        .collect();
    let head = ["SLUG", "TYPE", "PRICE", "RATING", "TITLE"];
    let mut widths: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate().take(4) {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let fixed: usize = widths[..4].iter().map(|w| w + 2).sum();
    let title_width = width.saturating_sub(fixed).max(10);
    let line = |cells: [&str; 5]| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate().take(4) {
            out.push_str(&format!("{cell:<w$}  ", w = widths[i]));
        }
        let title: String = if cells[4].chars().count() > title_width {
            let cut: String = cells[4].chars().take(title_width.saturating_sub(1)).collect();
            format!("{cut}…")
        } else {
            cells[4].to_owned()
        };
        out.push_str(&title);
        out.trim_end().to_owned() + "\n"
    };
    let mut out = line(head);
    for row in &rows {
        out.push_str(&line([&row[0], &row[1], &row[2], &row[3], &row[4]]));
    }
    out
}

fn detail_text(
    detail: &ap_domain::wire::ListingDetail,
    scan: Option<&ap_domain::wire::SecurityResults>,
) -> String {
    let s = &detail.summary;
    let mut out = format!("{}\n{}\n\n", s.title, s.description);
    let fields = [
        ("Slug", s.slug.clone()),
        ("Type", s.listing_type.as_str().to_owned()),
        ("Author", s.author.display_name.clone()),
        ("Price", price(s.price_cents)),
        ("Version", s.version.clone().unwrap_or_else(|| "none yet".to_owned())),
        ("Category", s.category.clone()),
        ("Downloads", s.download_count.to_string()),
        ("Rating", rating(s.rating_average, s.rating_count)),
        ("Security", s.security_status.as_str().to_owned()),
        ("Install", format!("ap install {}", s.slug)),
    ];
    for (name, value) in fields {
        out.push_str(&format!("{name:<10} {value}\n"));
    }
    if !detail.versions.is_empty() {
        out.push_str("\nVersions\n");
        for v in &detail.versions {
            let changes = v.changelog.as_deref().unwrap_or("");
            out.push_str(format!("  {:<9} {changes}", v.version).trim_end());
            out.push('\n');
        }
    }
    if let Some(scan) = scan {
        let score = scan.score.map_or_else(|| "-".to_owned(), |s| format!("{s}/10"));
        out.push_str(&format!("\nSecurity scan: {} · score {score}\n", scan.status.as_str()));
        if scan.findings.is_empty() {
            out.push_str("  Nothing to report.\n");
        }
        for finding in &scan.findings {
            out.push_str(&crate::ui::finding(finding));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{price, valid_slug};

    #[test]
    fn prices_keep_their_sign() {
        assert_eq!(price(0), "Free");
        assert_eq!(price(1250), "$12.50");
        assert_eq!(price(-150), "-$1.50");
        assert_eq!(price(-50), "-$0.50");
    }

    #[test]
    fn slugs_are_checked_before_they_are_sent() {
        assert_eq!(valid_slug(" pdf-wizard ").ok(), Some("pdf-wizard"));
        for bad in ["", "..", "-x", "Upper", "a/b", &"a".repeat(129)] {
            assert!(valid_slug(bad).is_err(), "{bad}");
        }
    }
}
