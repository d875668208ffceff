//! The installer's commands: `install`, `update`, `uninstall`, `status` and `verify`, on
//! the folders and `pins.json` the Python tool keeps (`local`).

use std::path::{Path, PathBuf};

use anyhow::Context;

use ap_client::{Client, Error, NewInstallation};
use ap_domain::code::Code;
use ap_domain::listing::{ListingType, SecurityStatus};
use ap_domain::version::Version;
use ap_domain::wire::{ListingDetail, NATIVE_SOURCE};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::commands::{confirm, json_out, valid_slug};
use crate::local::{self, Pin};
use crate::ui::{self, Colour, paint};

/// Where an install goes: `--global`, `--for`.
#[derive(Debug, Clone, clap::Args)]
pub struct Target {
    /// Install into the home folder even when the working directory has the tool's
    /// folder (a project-local install otherwise).
    #[arg(long)]
    pub global: bool,
    /// The AI tool to install for: agents, claude-code (the default), claude-desktop,
    /// codex, gemini or kiro.
    #[arg(long = "for", default_value = local::DEFAULT_TOOL)]
    pub tool: String,
}

impl Target {
    /// The base folder this target installs into.
    pub fn base(&self) -> anyhow::Result<PathBuf> {
        local::install_base(self.global, &self.tool)
    }
}

/// `slug` or `author/slug`, checked.
fn parse_spec(spec: &str) -> anyhow::Result<(Option<&str>, &str)> {
    match spec.trim().split_once('/') {
        None => Ok((None, valid_slug(spec)?)),
        Some((_, rest)) if rest.contains('/') => {
            anyhow::bail!("Invalid slug format '{spec}'. Expected 'slug' or 'author/slug'.")
        }
        Some((author, _)) if author.trim().is_empty() => {
            anyhow::bail!("Author name cannot be empty (in '{spec}'): use 'slug' or 'author/slug'.")
        }
        Some((author, slug)) => Ok((Some(author.trim()), valid_slug(slug)?)),
    }
}

/// The live listing `slug`, or "not found" in words.
pub async fn find_listing(client: &Client, slug: &str) -> anyhow::Result<ListingDetail> {
    match client.listing(slug).await {
        Err(Error::Api { status: 404, .. }) => anyhow::bail!("Skill '{slug}' not found."),
        found => Ok(found?),
    }
}

/// `ap install <slug|author/slug> [--code] [--global] [--for] [--yes]`.
pub async fn install(
    client: &Client,
    spec: &str,
    code: Option<&str>,
    target: &Target,
    yes: bool,
) -> anyhow::Result<()> {
    let (author, slug) = parse_spec(spec)?;
    let base = target.base()?;
    let detail = find_listing(client, slug).await?;
    if let Some(author) = author
        && detail.summary.author.display_name_slug != author
    {
        anyhow::bail!("Skill '{slug}' not found for seller '{author}'.");
    }
    if !accept_scan(&detail, yes)? {
        say!("Installation cancelled.");
        return Ok(());
    }
    if let Some(code) = code {
        crate::commands::signed(client)?.redeem(code).await.map_err(|e| {
            anyhow::anyhow!(
                "Failed to redeem license code: {}",
                crate::commands::explain(&e.into())
            )
        })?;
    }
    let dest = download_and_install(client, &detail, &base).await?;
    say!("Installed '{slug}' to {}", dest.display());
    Ok(())
}

/// Whether to go on with a listing's scan verdict: never for `block`; for `warn` after the
/// findings are shown and the person agrees (or `yes`).
pub fn accept_scan(detail: &ListingDetail, yes: bool) -> anyhow::Result<bool> {
    let slug = &detail.summary.slug;
    match detail.summary.security_status {
        SecurityStatus::Block => {
            anyhow::bail!("Skill '{slug}' has been blocked due to security concerns.")
        }
        SecurityStatus::Warn => {
            say!("{} for '{slug}':", paint("Security warning", Colour::Yellow));
            for finding in &detail.security_findings {
                let text =
                    finding["detail"].as_str().map_or_else(|| finding.to_string(), str::to_owned);
                say!("  - {text}");
            }
            if detail.security_findings.is_empty()
                && let Some(score) = detail.security_score
            {
                say!("  Security score: {score}");
            }
            Ok(yes || confirm("Install anyway?")?)
        }
        SecurityStatus::Pass | SecurityStatus::Pending => Ok(true),
    }
}

/// A paid listing the account has no right to download (yet).
#[derive(Debug)]
pub struct NotOwned(pub String);

impl std::fmt::Display for NotOwned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let slug = &self.0;
        write!(
            f,
            "'{slug}' is paid: buy it with `ap buy {slug}`, or install it with --code and a \
             license code."
        )
    }
}

impl std::error::Error for NotOwned {}

/// Downloads the live version of `detail` (with a progress bar), checks the archive
/// against the digest the server signed, unpacks it under `base`, pins it and records the
/// install; answers the folder. `client` is anonymous: the stored token is sent only for a
/// paid listing (so a stale token never stands in the way of a free one); a paid listing
/// not owned is [`NotOwned`].
pub async fn download_and_install(
    client: &Client,
    detail: &ListingDetail,
    base: &Path,
) -> anyhow::Result<PathBuf> {
    let summary = &detail.summary;
    let slug = summary.slug.as_str();
    // The pin is written after the folder is replaced: a pins.json that cannot take it
    // stops the install before anything changes.
    local::check_pins()?;
    let paid = summary.price_cents > 0;
    let downloader = if paid { crate::commands::signed(client)? } else { client.clone() };
    let link = match downloader.download_link(slug, None).await {
        Err(Error::Api { code: Code::PurchaseRequired, .. }) if paid => {
            return Err(NotOwned(slug.to_owned()).into());
        }
        link => link?,
    };
    let bar = ui::transfer(&format!("Downloading {slug}"));
    let zip = client.fetch_archive(&link, ui::follow(&bar)).await;
    bar.finish_and_clear();
    let zip = zip?;
    if hex::encode(Sha256::digest(&zip)) != link.archive_sha256 {
        anyhow::bail!("The download of '{slug}' does not match its digest; nothing was installed.");
    }
    let dest = local::extract(&zip, slug, summary.listing_type, base)?;
    let hash = local::hash_dir(&dest)?;
    let status = summary.security_status.as_str();
    local::save_pin(slug, &Pin::new(&link.version, hash, status, summary.listing_type, &dest))?;
    // Recorded with the token when there is one (as the Python tool does: it lets the
    // account review what it installed); a failure here changes nothing local.
    let install = NewInstallation {
        source_slug: slug.to_owned(),
        hostname: hostname(),
        platform: "cli".to_owned(),
        source: Some(NATIVE_SOURCE.to_owned()),
    };
    let recorded = match crate::state::token().ok().flatten() {
        Some(token) => client.with_token(token).record_installation(&install).await,
        None => client.record_installation(&install).await,
    };
    if let Err(Error::Api { status: 401, .. }) = recorded {
        // A token revoked elsewhere: counted anonymously instead.
        let _ = client.record_installation(&install).await;
    }
    Ok(dest)
}

/// This machine's name, as the installation record names it.
fn hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|path| std::fs::read_to_string(path).ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// What `update` found for one installed listing.
pub enum Plan {
    /// Nothing to do.
    UpToDate,
    /// A newer version, or (`behind` false) the current one again over local edits.
    Install { detail: Box<ListingDetail>, behind: bool, edited: bool },
    /// The listing is blocked by the scan: the install is kept as it is.
    Blocked(String),
}

/// `ap update [slug] [--force]`: one install (`--force` answers every question yes), or
/// every pinned one (asking once for the clean updates unless `--force`, and for each
/// edited install whatever `--force` says; an edited install that is current is left).
pub async fn update(client: &Client, slug: Option<&str>, force: bool) -> anyhow::Result<()> {
    let pins = local::pins()?;
    let slugs: Vec<String> = match slug {
        Some(slug) => {
            let slug = valid_slug(slug)?;
            if let Some(pin) = pins.get(slug)
                && pin.source != NATIVE_SOURCE
            {
                anyhow::bail!(
                    "'{slug}' was installed from {}; this server lists only its own ({NATIVE_SOURCE}).",
                    pin.source
                );
            }
            if !pins.contains_key(slug)
                && local::installed_dirs(slug, local::DEFAULT_TOOL)?.is_empty()
            {
                anyhow::bail!("'{slug}' is not installed. Install it with `ap install {slug}`.");
            }
            vec![slug.to_owned()]
        }
        None => pins
            .iter()
            .filter(|(_, pin)| pin.source == NATIVE_SOURCE)
            .map(|(slug, _)| slug.clone())
            .collect(),
    };
    if slugs.is_empty() {
        say!("No skills installed to update.");
        return Ok(());
    }
    let every = slug.is_none();
    let mut plans = Vec::new();
    let mut failed = Vec::new();
    for slug in &slugs {
        let pin = pins.get(slug);
        match plan(client, slug, pin).await {
            Ok(plan) => plans.push((slug.as_str(), pin, plan)),
            Err(error) if !every => return Err(error),
            Err(error) => {
                say!(
                    "{} {slug}: {}",
                    paint("Failed", Colour::Red),
                    crate::commands::explain(&error)
                );
                failed.push(slug.as_str());
            }
        }
    }
    let clean = plans
        .iter()
        .filter(|(_, _, p)| matches!(p, Plan::Install { behind: true, edited: false, .. }))
        .count();
    if every && clean > 0 && !force {
        say!("Updates available ({clean}):");
        for (slug, pin, plan) in &plans {
            if let Plan::Install { detail, behind: true, edited: false } = plan {
                say!("  {slug}: v{} → v{}", version_of(*pin), latest(detail));
            }
        }
        if !confirm(&format!("Update {clean} skills?"))? {
            say!("Update cancelled.");
            if !failed.is_empty() {
                anyhow::bail!("{} failed: {}", failed.len(), failed.join(", "));
            }
            return Ok(());
        }
    }
    let mut current = 0;
    for (slug, pin, plan) in plans {
        let (detail, behind) = match plan {
            Plan::UpToDate => {
                current += 1;
                say!("{slug} is already up to date (v{})", version_of(pin));
                continue;
            }
            Plan::Blocked(version) => {
                say!(
                    "{} {slug} v{version} is blocked by security. Keeping v{}.",
                    paint("Blocked:", Colour::Red),
                    version_of(pin)
                );
                continue;
            }
            Plan::Install { behind: false, .. } if every => {
                say!("{slug} has been locally edited; skipped (`ap update {slug}` restores it).");
                continue;
            }
            Plan::Install { detail, behind, edited } => {
                let ask = edited && (every || !force);
                let question = if behind {
                    format!(
                        "{slug} has been locally edited. Update anyway? Local changes will be overwritten"
                    )
                } else {
                    format!(
                        "{slug} has been locally edited. Restore it to the original? Local changes will be overwritten"
                    )
                };
                if ask && !confirm(&question)? {
                    say!("Skipping {slug}.");
                    continue;
                }
                (detail, behind)
            }
        };
        let base = match local::find_installed(slug, pin)? {
            Some(dir) => dir.parent().and_then(Path::parent).map(Path::to_path_buf),
            None => None,
        };
        let base = match base {
            Some(base) => base,
            None => local::install_base(false, local::DEFAULT_TOOL)?,
        };
        match download_and_install(client, &detail, &base).await {
            Ok(_) if !behind => say!("Restored {slug} v{} to original.", latest(&detail)),
            Ok(_) => say!(
                "{} {slug} from v{} to v{}",
                paint("Updated", Colour::Green),
                version_of(pin),
                latest(&detail)
            ),
            Err(error) => {
                say!("{} {slug}: {error:#}", paint("Failed to update", Colour::Red));
                failed.push(slug);
            }
        }
    }
    if every && current == slugs.len() {
        say!("All installed skills are up to date.");
    }
    if !failed.is_empty() {
        anyhow::bail!("{} failed: {}", failed.len(), failed.join(", "));
    }
    Ok(())
}

/// The installed version a pin records (`0.0.0` when unknown, as for the Python tool).
pub fn version_of(pin: Option<&Pin>) -> &str {
    pin.and_then(|p| p.version.as_deref()).unwrap_or("0.0.0")
}

/// The listing's live version.
pub fn latest(detail: &ListingDetail) -> &str {
    detail.summary.version.as_deref().unwrap_or("0.0.0")
}

/// What to do for one installed listing.
pub async fn plan(client: &Client, slug: &str, pin: Option<&Pin>) -> anyhow::Result<Plan> {
    let detail = match client.listing(slug).await {
        Err(Error::Api { status: 404, .. }) => anyhow::bail!("'{slug}' not found on AgentPowers."),
        found => found?,
    };
    // A folder whose content was never pinned counts as edited: nothing says it is the
    // package as installed, so it is not overwritten without a question.
    let pinned = pin.and_then(|p| p.content_hash.as_ref());
    let edited = match (local::find_installed(slug, pin)?, pinned) {
        (Some(dir), Some(pinned)) => local::hash_dir(&dir)? != *pinned,
        (Some(_), None) => true,
        (None, _) => false,
    };
    let behind = match (Version::parse(version_of(pin)), Version::parse(latest(&detail))) {
        (Ok(installed), Ok(newest)) => installed < newest,
        _ => false,
    };
    if !behind && !edited {
        return Ok(Plan::UpToDate);
    }
    if detail.summary.security_status == SecurityStatus::Block {
        return Ok(Plan::Blocked(latest(&detail).to_owned()));
    }
    Ok(Plan::Install { detail: Box::new(detail), behind, edited })
}

/// Removes `slug`'s folders for each of `tools` and its pin; answers the folders removed.
/// Not installed anywhere and not pinned is an error.
pub fn remove(slug: &str, tools: &[&str]) -> anyhow::Result<Vec<PathBuf>> {
    let found = installed_for(slug, tools)?;
    if found.is_empty() && !local::pins()?.contains_key(slug) {
        anyhow::bail!("'{slug}' not found. Not installed.");
    }
    for dir in &found {
        std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    local::remove_pin(slug)?;
    Ok(found)
}

/// The folders of `slug` for each of `tools`, each once.
fn installed_for(slug: &str, tools: &[&str]) -> anyhow::Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = Vec::new();
    for tool in tools {
        for dir in local::installed_dirs(slug, tool)? {
            if !found.contains(&dir) {
                found.push(dir);
            }
        }
    }
    Ok(found)
}

/// `ap uninstall <slug> [--force]`.
pub async fn uninstall(slug: &str, force: bool) -> anyhow::Result<()> {
    let slug = valid_slug(slug)?;
    let found = installed_for(slug, &[local::DEFAULT_TOOL])?;
    let pinned = local::pins()?.contains_key(slug);
    if found.is_empty() && !pinned {
        anyhow::bail!("'{slug}' not found. Not installed.");
    }
    if !force {
        let places: Vec<String> = found.iter().map(|d| d.display().to_string()).collect();
        let places = if places.is_empty() { "metadata only".to_owned() } else { places.join(", ") };
        if !confirm(&format!("Remove '{slug}' ({places})?"))? {
            say!("Aborted.");
            return Ok(());
        }
    }
    remove(slug, &[local::DEFAULT_TOOL])?;
    say!("Uninstalled '{slug}'.");
    Ok(())
}

/// One installed package as `status` shows it.
#[derive(Debug, serde::Serialize)]
pub struct Installed {
    pub slug: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The tool whose folder holds it.
    pub tool: &'static str,
    pub source: String,
    pub version: Option<String>,
    pub security_status: Option<String>,
    pub installed_at: Option<String>,
    /// `project` or `global`.
    pub location: &'static str,
    pub path: String,
    /// Whether its files differ from the pinned content hash (unknown without a pin).
    pub edited: Option<bool>,
}

/// What is installed for each of `tools` (a folder shared by two tools listed once),
/// skills before agents, by slug; `with_edits` hashes each pinned folder to tell whether
/// it was edited (`edited` is unknown otherwise).
pub fn installed(tools: &[&'static str], with_edits: bool) -> anyhow::Result<Vec<Installed>> {
    let pins = local::pins()?;
    let mut found: Vec<Installed> = Vec::new();
    for tool in tools {
        let bases = local::candidate_bases(tool)?;
        for kind in [ListingType::Skill, ListingType::Agent] {
            let mut seen = std::collections::BTreeSet::new();
            for (index, base) in bases.iter().enumerate() {
                let location = if index == 0 && bases.len() > 1 { "project" } else { "global" };
                let Ok(entries) = std::fs::read_dir(base.join(local::subfolder(kind))) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let path = entry.path().display().to_string();
                    let listed = found.iter().any(|i| i.path == path);
                    if !entry.path().is_dir() || name.starts_with('.') || listed {
                        continue;
                    }
                    if !seen.insert(name.clone()) {
                        continue;
                    }
                    let pin = pins.get(&name);
                    // A folder that cannot be read shows as unknown, not as a failure.
                    let edited = pin
                        .filter(|_| with_edits)
                        .and_then(|p| p.content_hash.as_ref())
                        .and_then(|pinned| Some(local::hash_dir(&entry.path()).ok()? != *pinned));
                    found.push(Installed {
                        kind: kind.as_str(),
                        tool,
                        source: pin.map_or_else(|| "local".to_owned(), |p| p.source.clone()),
                        version: pin.and_then(|p| p.version.clone()),
                        security_status: pin.and_then(|p| p.security_status.clone()),
                        installed_at: pin.and_then(|p| p.installed_at.clone()),
                        location,
                        path,
                        edited,
                        slug: name,
                    });
                }
            }
        }
    }
    found.sort_by(|a, b| (a.kind, &a.slug, a.tool).cmp(&(b.kind, &b.slug, b.tool)));
    Ok(found)
}

/// `ap status [--source] [--json]`.
pub async fn status(source: Option<&str>, json: bool) -> anyhow::Result<()> {
    let mut found = installed(&[local::DEFAULT_TOOL], false)?;
    if let Some(source) = source {
        found.retain(|i| i.source.eq_ignore_ascii_case(source));
    }
    if json {
        return json_out(
            &json!({ "logged_in": crate::state::token()?.is_some(), "installed": found }),
        );
    }
    if crate::state::token()?.is_some() {
        say!("Logged in (run `ap whoami` to verify)");
    } else {
        say!("Not logged in. Run `ap login` to purchase and publish skills.");
    }
    for (kind, title) in [("skill", "Skills"), ("agent", "Agents")] {
        let rows: Vec<&Installed> = found.iter().filter(|i| i.kind == kind).collect();
        say!("");
        if rows.is_empty() {
            say!("No {} installed.", title.to_lowercase());
            continue;
        }
        say!("Installed {title} ({})", rows.len());
        let with_location = rows.iter().any(|i| i.location == "project");
        let width = rows.iter().map(|i| i.slug.chars().count()).max().unwrap_or(4).max(4);
        let mut head = format!(
            "{:<width$}  {:<12} {:<9} {:<9} {:<10}",
            "SLUG", "SOURCE", "SECURITY", "VERSION", "INSTALLED"
        );
        if with_location {
            head.push_str(" LOCATION");
        }
        say!("{}", head.trim_end());
        for i in rows {
            let security = i.security_status.as_deref().unwrap_or("-");
            let padded = format!("{security:<9}");
            let mut line = format!(
                "{:<width$}  {:<12} {} {:<9} {:<10}",
                i.slug,
                i.source,
                padded.replacen(security, &ui::verdict(security), 1),
                i.version.as_deref().unwrap_or("-"),
                i.installed_at.as_deref().map_or("-", |d| d.get(..10).unwrap_or(d)),
            );
            if with_location {
                line.push(' ');
                line.push_str(i.location);
            }
            say!("{}", line.trim_end());
        }
    }
    Ok(())
}

/// `ap verify [--json]`: each pinned install against its content hash; fails when one is
/// missing or changed.
pub async fn verify(json: bool) -> anyhow::Result<()> {
    let pins = local::pins()?;
    if pins.is_empty() && !json {
        say!("No installed skills to verify.");
        return Ok(());
    }
    let mut results = Vec::new();
    for (slug, pin) in &pins {
        let result = match (&pin.content_hash, local::find_installed(slug, Some(pin))?) {
            (None, _) => "skip",
            (Some(_), None) => "missing",
            (Some(pinned), Some(dir)) if local::hash_dir(&dir)? == *pinned => "ok",
            (Some(_), Some(_)) => "fail",
        };
        results.push(json!({"slug": slug, "source": pin.source, "result": result}));
        if json {
            continue;
        }
        let source = &pin.source;
        match result {
            "ok" => say!("  {}      {slug} ({source})", paint("OK", Colour::Green)),
            "skip" => say!(
                "  {}    {slug} ({source}) — no content hash stored",
                paint("SKIP", Colour::Yellow)
            ),
            "missing" => {
                say!("  {}  {slug} ({source}) — not found on disk", paint("MISSING", Colour::Red))
            }
            _ => say!("  {}    {slug} ({source}) — hash mismatch", paint("FAIL", Colour::Red)),
        }
    }
    if json {
        json_out(&results)?;
    }
    let bad = results.iter().filter(|r| r["result"] == "fail" || r["result"] == "missing").count();
    if bad > 0 {
        anyhow::bail!("{bad} installed package(s) failed verification.");
    }
    Ok(())
}
