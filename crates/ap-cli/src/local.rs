//! Installs on this machine, kept exactly as the Python `ap` keeps them so that either tool
//! can verify, update or remove what the other installed (CONTRACT §2.4):
//!
//! - where packages go: `<base>/skills/<slug>/` or `<base>/agents/<slug>/`, the base being
//!   the tool's folder in the working directory when it has one (project-local), else the
//!   one in the home folder (`~/.claude` for Claude Code);
//! - `~/.agentpowers/pins.json`: slug → `{source, version, content_hash, installed_at,
//!   scanned_at, security_status, type, install_location}`;
//! - the content hash of an installed folder (`ap_domain::content`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use ap_domain::listing::ListingType;
use serde_json::{Map, Value, json};

/// The tools `--for` accepts and the folder each keeps in a home or project folder.
pub const TOOLS: [(&str, &str); 6] = [
    ("agents", ".agents"),
    ("claude-code", ".claude"),
    ("claude-desktop", ".claude"),
    ("codex", ".codex"),
    ("gemini", ".gemini"),
    ("kiro", ".kiro"),
];

/// The tool installs are for unless `--for` says otherwise.
pub const DEFAULT_TOOL: &str = "claude-code";

/// The tools that also read a project's own folder (all but Codex).
fn project_local(tool: &str) -> bool {
    tool != "codex"
}

/// The entry of `tool` in [`TOOLS`], or an error naming the supported ones.
pub fn tool(tool: &str) -> anyhow::Result<(&'static str, &'static str)> {
    match TOOLS.iter().find(|(name, _)| *name == tool) {
        Some(entry) => Ok(*entry),
        None => {
            let names: Vec<&str> = TOOLS.iter().map(|(name, _)| *name).collect();
            anyhow::bail!("Unknown tool '{tool}'. Supported tools: {}", names.join(", "))
        }
    }
}

/// The folder name of `tool`.
pub fn tool_folder(name: &str) -> anyhow::Result<&'static str> {
    Ok(tool(name)?.1)
}

fn home() -> anyhow::Result<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from).context("HOME is not set")
}

/// The project's folder for `tool` when the working directory has one.
fn project_folder(tool: &str) -> anyhow::Result<Option<PathBuf>> {
    if !project_local(tool) {
        return Ok(None);
    }
    let local = std::env::current_dir()?.join(tool_folder(tool)?);
    Ok(local.is_dir().then_some(local))
}

/// Where a new install of `tool` goes: the project's folder when there is one (unless
/// `global`), else the home folder's.
pub fn install_base(global: bool, tool: &str) -> anyhow::Result<PathBuf> {
    let global_dir = home()?.join(tool_folder(tool)?);
    if global {
        return Ok(global_dir);
    }
    Ok(project_folder(tool)?.unwrap_or(global_dir))
}

/// Every base an install of `tool` may be under: the project's first, then the home
/// folder's (once, when they are the same folder).
pub fn candidate_bases(tool: &str) -> anyhow::Result<Vec<PathBuf>> {
    let global_dir = home()?.join(tool_folder(tool)?);
    let mut bases: Vec<PathBuf> = project_folder(tool)?.into_iter().collect();
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    };
    if !bases.iter().any(|b| same(b, &global_dir)) {
        bases.push(global_dir);
    }
    Ok(bases)
}

/// The sub-folder of a listing type.
pub fn subfolder(kind: ListingType) -> &'static str {
    match kind {
        ListingType::Skill => "skills",
        ListingType::Agent => "agents",
    }
}

/// Every folder `slug` is installed in for `tool` (its bases, skills before agents).
pub fn installed_dirs(slug: &str, tool: &str) -> anyhow::Result<Vec<PathBuf>> {
    search(slug, tool, ["skills", "agents"])
}

/// The folders of `slug` under `tool`'s bases (project first), sub-folders in `order`.
fn search(slug: &str, tool: &str, order: [&str; 2]) -> anyhow::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for base in candidate_bases(tool)? {
        for sub in order {
            let dir = base.join(sub).join(slug);
            if dir.exists() {
                found.push(dir);
            }
        }
    }
    Ok(found)
}

/// Where `slug` is installed: the pin's own location when it still exists, else the first
/// place the Python tool would look (project before home, the pin's type's folder first).
pub fn find_installed(slug: &str, pin: Option<&Pin>) -> anyhow::Result<Option<PathBuf>> {
    if let Some(location) = pin.and_then(|p| p.install_location.as_deref()) {
        let location = PathBuf::from(location);
        if location.is_dir() {
            return Ok(Some(location));
        }
    }
    let agent_first = pin.is_some_and(|p| p.kind() == ListingType::Agent);
    let order = if agent_first { ["agents", "skills"] } else { ["skills", "agents"] };
    Ok(search(slug, DEFAULT_TOOL, order)?.into_iter().next())
}

/// Unpacks a package into `<base>/<skills|agents>/<slug>`. The archive is unpacked beside
/// the old install, which is swapped out only once the new one is whole (and put back if
/// the swap fails). Entries that would land outside the folder (absolute paths, `..`) and
/// links are refused; an archive holding one folder (other than the slug's own name) is
/// unpacked from inside it.
pub fn extract(zip: &[u8], slug: &str, kind: ListingType, base: &Path) -> anyhow::Result<PathBuf> {
    crate::commands::valid_slug(slug)?;
    let parent = base.join(subfolder(kind));
    std::fs::create_dir_all(&parent).with_context(|| format!("creating {}", parent.display()))?;
    let dest = parent.join(slug);
    tidy_up(&parent, slug, &dest)?;
    // Dot names beside it, which listings skip.
    let pid = std::process::id();
    let staging = parent.join(format!(".{slug}.installing-{pid}"));
    let scratch = parent.join(format!(".{slug}.flattening-{pid}"));
    let backup = parent.join(format!(".{slug}.replaced-{pid}"));
    let unpacked = unpack(zip, &staging).and_then(|()| flatten(&staging, slug, &scratch));
    if let Err(error) = unpacked.and_then(|()| swap(&staging, &dest, &backup)) {
        let _ = std::fs::remove_dir_all(&staging);
        let _ = std::fs::remove_dir_all(&scratch);
        return Err(error);
    }
    let _ = std::fs::remove_dir_all(&backup);
    Ok(dest)
}

/// What an interrupted install of `slug` left beside `dest`: a replaced install whose
/// successor never arrived is put back; unfinished unpacking is removed.
fn tidy_up(parent: &Path, slug: &str, dest: &Path) -> anyhow::Result<()> {
    let leftovers =
        [".installing-", ".flattening-", ".replaced-"].map(|kind| format!(".{slug}{kind}"));
    for entry in std::fs::read_dir(parent)?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if name.starts_with(&leftovers[2]) && !dest.exists() {
            std::fs::rename(&path, dest)
                .with_context(|| format!("restoring {} from {}", dest.display(), path.display()))?;
        } else if leftovers.iter().any(|prefix| name.starts_with(prefix.as_str())) {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
    Ok(())
}

/// Moves `staging` to `dest`, the old `dest` (if any) to `backup` first; puts it back when
/// the move fails.
fn swap(staging: &Path, dest: &Path, backup: &Path) -> anyhow::Result<()> {
    let replacing = dest.exists();
    if replacing {
        std::fs::rename(dest, backup).with_context(|| format!("moving {}", dest.display()))?;
    }
    if let Err(error) = std::fs::rename(staging, dest) {
        if replacing {
            let _ = std::fs::rename(backup, dest);
        }
        return Err(error).with_context(|| format!("writing {}", dest.display()));
    }
    Ok(())
}

fn unpack(zip: &[u8], dest: &Path) -> anyhow::Result<()> {
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(zip)).context("the package is not a ZIP")?;
    std::fs::create_dir_all(dest)?;
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index)?;
        let name = entry.name().replace('\\', "/");
        let is_link = entry.unix_mode().is_some_and(|mode| mode & 0o170000 == 0o120000);
        let unsafe_path = name.starts_with('/') || name.split('/').any(|part| part == "..");
        if is_link || unsafe_path || entry.enclosed_name().is_none() {
            anyhow::bail!("Refusing to install: the package has an unsafe entry '{name}'.");
        }
        let target = dest.join(name.trim_end_matches('/'));
        if entry.is_dir() {
            std::fs::create_dir_all(&target)?;
            continue;
        }
        if let Some(folder) = target.parent() {
            std::fs::create_dir_all(folder)?;
        }
        let mut file = std::fs::File::create(&target)
            .with_context(|| format!("writing {}", target.display()))?;
        std::io::copy(&mut entry, &mut file)?;
    }
    Ok(())
}

/// An archive packed as `zip -r x.zip folder/` holds one folder: its contents move up so
/// the tool finds `SKILL.md` at the top (unless the folder has the slug's own name). The
/// folder is first moved out to `scratch` (beside, not inside), so that any entry of it,
/// one with its own name included, can move up.
fn flatten(dest: &Path, slug: &str, scratch: &Path) -> anyhow::Result<()> {
    let children: Vec<PathBuf> =
        std::fs::read_dir(dest)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    let [only] = children.as_slice() else { return Ok(()) };
    if !only.is_dir() || only.file_name().is_some_and(|n| n == slug) {
        return Ok(());
    }
    std::fs::rename(only, scratch)?;
    for entry in std::fs::read_dir(scratch)? {
        let entry = entry?;
        std::fs::rename(entry.path(), dest.join(entry.file_name()))?;
    }
    std::fs::remove_dir(scratch)?;
    Ok(())
}

/// The content hash of an installed folder (the files' paths relative to it; a link to a
/// file counts, as for the Python tool).
pub fn hash_dir(dir: &Path) -> anyhow::Result<String> {
    let paths =
        files(dir, true, &|_| false).with_context(|| format!("reading {}", dir.display()))?;
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let bytes = std::fs::read(dir.join(&path))?;
        files.push((path, bytes));
    }
    Ok(ap_domain::content::content_hash(files.iter().map(|(p, b)| (p.as_str(), b.as_slice()))))
}

/// The relative paths (`/` separators) of the regular files under `dir`, except names
/// `skip` refuses (files and folders alike). Linked folders are never followed; links to
/// files count only with `file_links`.
pub fn files(
    dir: &Path,
    file_links: bool,
    skip: &dyn Fn(&str) -> bool,
) -> std::io::Result<Vec<String>> {
    let mut found = Vec::new();
    walk(dir, "", file_links, skip, &mut found)?;
    Ok(found)
}

fn walk(
    dir: &Path,
    prefix: &str,
    file_links: bool,
    skip: &dyn Fn(&str) -> bool,
    found: &mut Vec<String>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if skip(&name) {
            continue;
        }
        let relative = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&entry.path(), &relative, file_links, skip, found)?;
        } else if kind.is_file() || (file_links && kind.is_symlink() && entry.path().is_file()) {
            found.push(relative);
        }
    }
    Ok(())
}

/// One entry of `pins.json`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Pin {
    /// Where it came from (`agentpowers`).
    #[serde(default = "native")]
    pub source: String,
    /// The installed version.
    #[serde(default)]
    pub version: Option<String>,
    /// The content hash of the folder as installed.
    #[serde(default)]
    pub content_hash: Option<String>,
    /// When it was installed (ISO 8601).
    #[serde(default)]
    pub installed_at: Option<String>,
    /// When its scan verdict was read.
    #[serde(default)]
    pub scanned_at: Option<String>,
    /// The scan verdict then.
    #[serde(default)]
    pub security_status: Option<String>,
    /// `skill` or `agent`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// The folder it was installed in.
    #[serde(default)]
    pub install_location: Option<String>,
}

fn native() -> String {
    ap_domain::wire::NATIVE_SOURCE.to_owned()
}

impl Pin {
    /// A pin for an install made now.
    pub fn new(
        version: &str,
        content_hash: String,
        security_status: &str,
        kind: ListingType,
        location: &Path,
    ) -> Pin {
        // The Python tool's `datetime.now(UTC).isoformat()`.
        let now =
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, false).to_string();
        Pin {
            source: native(),
            version: Some(version.to_owned()),
            content_hash: Some(content_hash),
            installed_at: Some(now.clone()),
            scanned_at: Some(now),
            security_status: Some(security_status.to_owned()),
            kind: Some(kind.as_str().to_owned()),
            install_location: Some(location.to_string_lossy().into_owned()),
        }
    }

    /// The listing type it records (a skill when unsaid).
    pub fn kind(&self) -> ListingType {
        if self.kind.as_deref() == Some("agent") { ListingType::Agent } else { ListingType::Skill }
    }
}

/// `~/.agentpowers/pins.json`.
fn pins_file() -> anyhow::Result<PathBuf> {
    Ok(crate::state::dir()?.join("pins.json"))
}

/// The pins, whole (entries this tool does not understand are kept as they are). A
/// missing file is no pins; an unreadable one is no pins for reading (as for the Python
/// tool), but refuses a change (`for_change`), which would otherwise drop every pin.
fn read_all(for_change: bool) -> anyhow::Result<Map<String, Value>> {
    let path = pins_file()?;
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Map::new()),
        Err(error) => return Err(error).with_context(|| format!("reading {}", path.display())),
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Ok(map),
        _ if for_change => anyhow::bail!(
            "{} cannot be read as JSON; fix or remove it (nothing was changed).",
            path.display()
        ),
        _ => Ok(Map::new()),
    }
}

/// The pins, by slug.
pub fn pins() -> anyhow::Result<BTreeMap<String, Pin>> {
    Ok(read_all(false)?
        .into_iter()
        .filter_map(|(slug, value)| Some((slug, serde_json::from_value(value).ok()?)))
        .collect())
}

/// Fails as [`save_pin`] would, before anything is installed: an unreadable `pins.json`.
pub fn check_pins() -> anyhow::Result<()> {
    read_all(true).map(drop)
}

/// Records (or replaces) the pin of `slug`.
pub fn save_pin(slug: &str, pin: &Pin) -> anyhow::Result<()> {
    let mut all = read_all(true)?;
    all.insert(slug.to_owned(), serde_json::to_value(pin)?);
    write_all(&all)
}

/// Forgets the pin of `slug`; whether there was one.
pub fn remove_pin(slug: &str) -> anyhow::Result<bool> {
    let mut all = read_all(true)?;
    if all.remove(slug).is_none() {
        return Ok(false);
    }
    write_all(&all)?;
    Ok(true)
}

/// Writes the pins whole beside the file and renames it over it (indented as the Python
/// tool writes it).
fn write_all(all: &Map<String, Value>) -> anyhow::Result<()> {
    let path = pins_file()?;
    let dir = crate::state::dir()?;
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let staged = dir.join(format!(".pins.json.{}", std::process::id()));
    let mut file = std::fs::File::create(&staged)?;
    file.write_all(serde_json::to_string_pretty(&json!(all))?.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&staged, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, bytes) in entries {
            out.start_file(*name, zip::write::SimpleFileOptions::default()).expect("entry");
            out.write_all(bytes).expect("bytes");
        }
        out.finish().expect("zip").into_inner()
    }

    #[test]
    fn a_single_folder_is_unpacked_from_inside_and_hashes_match_the_contract() {
        let base = tempfile::tempdir().expect("dir");
        let zip = zip_of(&[("inner/SKILL.md", b"hi"), ("inner/a/b.txt", b"x")]);
        let dest = extract(&zip, "demo", ListingType::Skill, base.path()).expect("installed");
        assert_eq!(dest, base.path().join("skills/demo"));
        assert_eq!(std::fs::read(dest.join("SKILL.md")).expect("top"), b"hi");
        std::fs::write(dest.join(".DS_Store"), b"litter").expect("litter");
        let expected =
            ap_domain::content::content_hash([("SKILL.md", &b"hi"[..]), ("a/b.txt", &b"x"[..])]);
        assert_eq!(hash_dir(&dest).expect("hash"), expected);
    }

    #[test]
    fn a_folder_holding_its_own_name_moves_up_and_a_reinstall_replaces_the_old_one() {
        let base = tempfile::tempdir().expect("dir");
        let zip = zip_of(&[("pkg/SKILL.md", b"top"), ("pkg/pkg/inner.md", b"in")]);
        let dest = extract(&zip, "demo", ListingType::Skill, base.path()).expect("installed");
        assert_eq!(std::fs::read(dest.join("SKILL.md")).expect("top"), b"top");
        assert_eq!(std::fs::read(dest.join("pkg/inner.md")).expect("inner"), b"in");
        let again = zip_of(&[("SKILL.md", b"v2")]);
        extract(&again, "demo", ListingType::Skill, base.path()).expect("replaced");
        assert!(!dest.join("pkg").exists(), "nothing of the old install is left");
        let names: Vec<_> = std::fs::read_dir(base.path().join("skills"))
            .expect("skills")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["demo"], "no staging or backup folder left behind");

        // An install interrupted after the old folder was moved aside gets it back; one
        // interrupted while unpacking leaves nothing.
        std::fs::rename(&dest, base.path().join("skills/.demo.replaced-1")).expect("aside");
        std::fs::create_dir_all(base.path().join("skills/.demo.installing-1/x")).expect("junk");
        let bad = zip_of(&[("../x", b"x")]);
        assert!(extract(&bad, "demo", ListingType::Skill, base.path()).is_err());
        assert_eq!(std::fs::read(dest.join("SKILL.md")).expect("restored"), b"v2");
        assert!(!base.path().join("skills/.demo.installing-1").exists());
    }

    #[test]
    fn unsafe_entries_are_refused_and_the_old_install_stays() {
        let base = tempfile::tempdir().expect("dir");
        let good = zip_of(&[("SKILL.md", b"v1")]);
        let dest = extract(&good, "demo", ListingType::Agent, base.path()).expect("installed");
        for name in ["../evil.md", "/abs.md", "a/../../x", "..\\evil.md"] {
            let bad = zip_of(&[("SKILL.md", b"v2"), (name, b"x")]);
            assert!(extract(&bad, "demo", ListingType::Agent, base.path()).is_err(), "{name}");
        }
        let mut linked = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        linked.add_symlink("SKILL.md", "/etc/passwd", options).expect("link");
        let linked = linked.finish().expect("zip").into_inner();
        let refused = extract(&linked, "demo", ListingType::Agent, base.path()).expect_err("link");
        assert!(refused.to_string().contains("unsafe entry 'SKILL.md'"), "{refused}");
        assert!(extract(&good, "../demo", ListingType::Agent, base.path()).is_err(), "bad slug");
        assert_eq!(std::fs::read(dest.join("SKILL.md")).expect("kept"), b"v1");
        let names: Vec<_> = std::fs::read_dir(base.path().join("agents"))
            .expect("agents")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["demo"], "no staging folder left behind");
    }
}
