//! The publisher's commands: `publish` (a folder with `SKILL.md`, or an agent's `.md` with
//! `name` and `description` in its frontmatter, packed and uploaded as a new listing or a
//! new version of one) and `scan` (a listing's security scan, or a folder's before it is
//! published).

use std::io::Write;
use std::path::{Path, PathBuf};

use ap_client::{Client, Error, ListingChanges, NewListing};
use ap_domain::code::Code;
use ap_domain::listing::ListingType;
use ap_domain::version::Version;
use serde_json::Value;

use crate::commands::{ask, json_out, valid_slug};
use crate::ui;

/// `ap publish`'s options, as the Python tool names them.
#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    /// Price in US dollars (0 for free; a new listing is free when absent).
    #[arg(long)]
    pub price: Option<f64>,
    /// The folder holding the skill or agent.
    #[arg(long = "dir", default_value = ".")]
    pub dir: PathBuf,
    /// The marketplace category.
    #[arg(long, default_value = "development")]
    pub category: String,
    /// How a new version of an existing listing counts up: patch, minor or major.
    #[arg(long, value_parser = ["patch", "minor", "major"], conflicts_with = "version")]
    pub bump: Option<String>,
    /// An explicit version (e.g. 2.0.0) for a new version of an existing listing.
    #[arg(long)]
    pub version: Option<String>,
    /// What this version changes.
    #[arg(long)]
    pub changelog: Option<String>,
    /// Print the upload's result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// What a folder holds: its name, description and type.
#[derive(Debug, PartialEq)]
pub struct Metadata {
    pub name: String,
    pub description: String,
    pub kind: ListingType,
}

/// Reads a folder's metadata: `SKILL.md` makes a skill; otherwise the first `.md` (by
/// name) whose frontmatter has `name` and `description` makes an agent.
pub fn metadata(dir: &Path) -> anyhow::Result<Option<Metadata>> {
    let field = |fields: &[(String, String)], key: &str| {
        fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    };
    let skill = dir.join("SKILL.md");
    if skill.is_file() {
        let fields = frontmatter(&std::fs::read_to_string(&skill)?);
        return Ok(Some(Metadata {
            name: field(&fields, "name").unwrap_or_else(|| "Unnamed Skill".to_owned()),
            description: field(&fields, "description").unwrap_or_default(),
            kind: ListingType::Skill,
        }));
    }
    let mut markdown: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "md"))
        .collect();
    markdown.sort();
    for path in markdown {
        let fields = frontmatter(&std::fs::read_to_string(&path)?);
        if let (Some(name), Some(description)) =
            (field(&fields, "name"), field(&fields, "description"))
        {
            return Ok(Some(Metadata { name, description, kind: ListingType::Agent }));
        }
    }
    Ok(None)
}

/// The `key: value` lines between a leading `---` and the next `---` (quotes trimmed).
fn frontmatter(text: &str) -> Vec<(String, String)> {
    let Some(rest) = text.strip_prefix("---") else { return Vec::new() };
    let Some((first, body)) = rest.split_once('\n') else { return Vec::new() };
    if !first.trim().is_empty() {
        return Vec::new();
    }
    let Some(end) = format!("\n{body}").find("\n---") else { return Vec::new() };
    let block = &format!("\n{body}")[..end];
    block
        .lines()
        .filter_map(|line| {
            let (key, value) = line.trim().split_once(':')?;
            let value = value.trim().trim_matches('"').trim_matches('\'');
            Some((key.trim().to_owned(), value.to_owned()))
        })
        .collect()
}

/// Packs a folder as a ZIP: every regular file except hidden files and folders (`.git`,
/// `.venv`, `.env`, …), `node_modules`, `__pycache__` and `*.pyc`/`*.pyo`. Links are left
/// out: a link could carry a file from outside the folder into a public package.
pub fn package(dir: &Path) -> anyhow::Result<Vec<u8>> {
    let skip = |name: &str| {
        name.starts_with('.')
            || name == "node_modules"
            || name == "__pycache__"
            || name.ends_with(".pyc")
            || name.ends_with(".pyo")
    };
    let mut files = crate::local::files(dir, false, &skip)?;
    files.sort();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for relative in files {
        zip.start_file(relative.as_str(), options)?;
        zip.write_all(&std::fs::read(dir.join(&relative))?)?;
    }
    Ok(zip.finish()?.into_inner())
}

/// `ap publish`.
pub async fn publish(client: &Client, args: &PublishArgs) -> anyhow::Result<()> {
    let price_cents = match args.price {
        Some(price) if price < 0.0 || !price.is_finite() => {
            anyhow::bail!("Price cannot be negative.")
        }
        Some(price) => Some((price * 100.0).round() as i64),
        None => None,
    };
    if let Some(version) = &args.version
        && Version::parse(version).is_err()
    {
        anyhow::bail!("Invalid version '{version}': use MAJOR.MINOR.PATCH, e.g. 2.0.0.");
    }
    let dir =
        args.dir.canonicalize().map_err(|e| anyhow::anyhow!("{}: {e}", args.dir.display()))?;
    let Some(meta) = metadata(&dir)? else {
        anyhow::bail!(
            "No skill found. Directory must contain SKILL.md (for skills) or an agent .md file \
             with name/description frontmatter."
        );
    };
    let slug = meta.name.to_lowercase().replace(' ', "-");
    let slug = valid_slug(&slug)
        .map_err(|e| anyhow::anyhow!("{e} (the slug comes from the `name` in the frontmatter)"))?
        .to_owned();
    let zip = package(&dir)?;
    let listing = NewListing {
        slug: slug.clone(),
        title: meta.name.clone(),
        description: meta.description.clone(),
        category: args.category.clone(),
        price_cents: Some(price_cents.unwrap_or(0)),
        long_description: None,
    };
    let created = match client.create_listing(meta.kind, &listing).await {
        Err(Error::Api { code: Code::DisplayNameRequired, .. }) => {
            let mut name = String::new();
            while name.is_empty() {
                name = ask("Sellers need a display name. Display name", "")?;
            }
            let mut changes = serde_json::Map::new();
            changes.insert("display_name".to_owned(), name.into());
            client.update_profile(&changes).await?;
            client.create_listing(meta.kind, &listing).await
        }
        other => other,
    };
    let new_version = match created {
        Ok(_) => None,
        Err(Error::Api { status: 409, .. }) => {
            let changes = ListingChanges {
                bump: if args.version.is_none() {
                    Some(args.bump.clone().unwrap_or_else(|| "patch".to_owned()))
                } else {
                    None
                },
                version: args.version.clone(),
                changelog: args.changelog.clone(),
                title: Some(meta.name.clone()),
                description: Some(meta.description.clone()),
                category: Some(args.category.clone()),
                price_cents,
                long_description: None,
            };
            let changed =
                client.change_listing(meta.kind, &slug, &changes).await.map_err(|e| match &e {
                    Error::Api { code: Code::SkillNotOwner, .. }
                    | Error::Api { code: Code::SlugTaken, .. } => {
                        anyhow::anyhow!("You are not the author of '{slug}'.")
                    }
                    Error::Api { code: Code::SkillArchived, .. } => {
                        anyhow::anyhow!("'{slug}' is unpublished. Run `ap republish {slug}` first.")
                    }
                    _ => e.into(),
                })?;
            Some(changed.new_version)
        }
        Err(error) => return Err(error.into()),
    };
    let version = new_version.as_deref().map(Version::parse).transpose().ok().flatten();
    let bar = ui::transfer(&format!("Uploading {slug}"));
    let uploaded =
        client.upload_with_progress(meta.kind, &slug, version, zip, ui::follow(&bar)).await;
    bar.finish_and_clear();
    let uploaded = uploaded
        .map_err(|e| anyhow::anyhow!("Upload failed: {}", crate::commands::explain(&e.into())))?;
    if args.json {
        return json_out(&uploaded);
    }
    match &new_version {
        Some(version) => say!("Updated '{slug}' to v{version}."),
        None => say!("Published '{slug}' successfully!"),
    }
    say!(
        "Security scan: {} (score {}/10)",
        ui::verdict(uploaded.security_status.as_str()),
        uploaded.security_score
    );
    print_findings(&uploaded.findings);
    Ok(())
}

/// `ap scan <slug>` (a listing's scan) or `ap scan --dir <folder>` (a folder scanned
/// without publishing it); fails when the verdict is `block`.
pub async fn scan(
    client: &Client,
    slug: Option<&str>,
    dir: Option<&Path>,
    kind: Option<ListingType>,
    json: bool,
) -> anyhow::Result<()> {
    let (status, score, findings, raw): (String, Option<i32>, Vec<Value>, Value) = match (slug, dir)
    {
        (Some(slug), None) => {
            let results = client.security_results(valid_slug(slug)?).await?;
            let raw = serde_json::to_value(&results)?;
            (results.status.as_str().to_owned(), results.score, results.findings, raw)
        }
        (None, Some(dir)) => {
            let meta = metadata(dir)?;
            let kind = kind.or(meta.map(|m| m.kind)).unwrap_or(ListingType::Skill);
            let result = client.scan_package(package(dir)?, kind).await?;
            let raw = serde_json::to_value(&result)?;
            let status = result.security_status.as_str().to_owned();
            (status, Some(result.security_score), result.findings, raw)
        }
        _ => {
            anyhow::bail!("Name a listing (`ap scan <slug>`) or a folder (`ap scan --dir <path>`).")
        }
    };
    if json {
        json_out(&raw)?;
    } else {
        let score = score.map_or_else(|| "-".to_owned(), |s| format!("{s}/10"));
        say!("Security scan: {} · score {score}", ui::verdict(&status));
        print_findings(&findings);
    }
    if status == "block" {
        anyhow::bail!("The scan blocks this package.");
    }
    Ok(())
}

/// Findings, one a line: severity, words and place.
fn print_findings(findings: &[Value]) {
    if findings.is_empty() {
        say!("  Nothing to report.");
    }
    for finding in findings {
        say!("{}", ui::finding(finding));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frontmatter_is_read_as_the_python_tool_reads_it() {
        let text = "---\nname: PDF Wizard\ndescription: \"Fill forms.\"\n---\n# Body\n";
        assert_eq!(
            frontmatter(text),
            [("name".into(), "PDF Wizard".into()), ("description".into(), "Fill forms.".into())]
        );
        assert!(frontmatter("# no frontmatter\n---\n").is_empty());
    }

    #[test]
    fn a_folder_is_a_skill_or_an_agent_and_packs_without_litter() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join("helper.md"), "---\nname: helper\ndescription: d\n---\n")
            .expect("agent");
        let meta = metadata(dir.path()).expect("read").expect("found");
        assert_eq!(meta.kind, ListingType::Agent);
        std::fs::write(dir.path().join("SKILL.md"), "---\nname: demo\n---\n").expect("skill");
        std::fs::create_dir_all(dir.path().join(".git")).expect("git");
        std::fs::write(dir.path().join(".git/HEAD"), "x").expect("head");
        std::fs::write(dir.path().join("x.pyc"), "x").expect("pyc");
        assert_eq!(metadata(dir.path()).expect("read").expect("found").kind, ListingType::Skill);
        let zip = package(dir.path()).expect("zip");
        let archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("read back");
        let names: Vec<&str> = archive.file_names().collect();
        assert_eq!(names.len(), 2);
        assert!(names.contains(&"SKILL.md") && names.contains(&"helper.md"));
    }
}
