#![doc = include_str!("../README.md")]

pub mod archive;
pub mod layout;
pub mod manifest;
pub mod report;
pub mod rules;

pub use archive::{File, Limits};
pub use report::{ContextLine, Finding, Layer, Report, Severity, Status};
pub use rules::DenyPatterns;

use rules::TextLayer;

/// Version of the rules; cached verdicts of older versions are stale.
pub const SCANNER_VERSION: &str = "2";

/// What a package installs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageKind {
    /// A folder with `SKILL.md`.
    Skill,
    /// One Markdown file with frontmatter.
    Agent,
}

impl PackageKind {
    /// The kind as the API and the store spell it (`skill`, `agent`).
    pub fn as_str(self) -> &'static str {
        match self {
            PackageKind::Skill => "skill",
            PackageKind::Agent => "agent",
        }
    }
}

/// File extensions accepted as text (lowercase, without the dot).
const TEXT_EXTENSIONS: &[&str] = &[
    "md",
    "markdown",
    "txt",
    "json",
    "yaml",
    "yml",
    "toml",
    "ini",
    "cfg",
    "conf",
    "csv",
    "tsv",
    "xml",
    "html",
    "css",
    "scss",
    "py",
    "js",
    "mjs",
    "cjs",
    "ts",
    "tsx",
    "jsx",
    "sh",
    "bash",
    "zsh",
    "fish",
    "ps1",
    "rb",
    "go",
    "rs",
    "java",
    "kt",
    "swift",
    "c",
    "h",
    "cpp",
    "hpp",
    "cs",
    "php",
    "sql",
    "lua",
    "r",
    "pl",
    "j2",
    "jinja",
    "tmpl",
    "example",
    "sample",
    "lock",
    "gitignore",
    "editorconfig",
];

/// Executable formats, by their first bytes.
const EXECUTABLE_MAGIC: &[(&[u8], &str)] = &[
    (b"\x7fELF", "an ELF executable"),
    (b"MZ", "a Windows executable"),
    (&[0xcf, 0xfa, 0xed, 0xfe], "a Mach-O executable"),
    (&[0xfe, 0xed, 0xfa, 0xcf], "a Mach-O executable"),
    (&[0xca, 0xfe, 0xba, 0xbe], "a Mach-O or Java binary"),
    (b"\0asm", "a WebAssembly module"),
];

/// Extensions of archives: a package holds files, not packages the scan cannot see into.
const ARCHIVE_EXTENSIONS: &[&str] = &[
    "zip", "jar", "war", "ear", "apk", "whl", "egg", "nupkg", "tar", "tgz", "tbz", "tbz2", "txz",
    "tzst", "gz", "bz2", "xz", "zst", "lz", "lzma", "7z", "rar", "cab",
];

/// Archive formats, by their first bytes.
const ARCHIVE_MAGIC: &[&[u8]] = &[
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!\x1a\x07",
    b"\x1f\x8b",
    b"\xfd7zXZ\x00",
    b"\x28\xb5\x2f\xfd",
];

/// Extensions of compiled code, which cannot be reviewed as source.
const COMPILED_EXTENSIONS: &[&str] =
    &["pyc", "pyo", "pyd", "class", "so", "dll", "exe", "dylib", "o", "obj", "a", "lib", "wasm"];

/// Whether the file is an archive, by name or content (a tar file names its format at
/// byte 257).
fn is_archive(path: &str, bytes: &[u8]) -> bool {
    let lower = path.to_lowercase();
    let extension = lower.rsplit_once('.').map_or("", |(_, e)| e);
    ARCHIVE_EXTENSIONS.contains(&extension)
        || lower.contains(".tar.")
        || ARCHIVE_MAGIC.iter().any(|magic| bytes.starts_with(magic))
        || bytes.get(257..262) == Some(b"ustar".as_slice())
}

/// Whether the file is compiled code, by name (executables are also found by content).
fn is_compiled(path: &str) -> bool {
    let lower = path.to_lowercase();
    let extension = file_name(&lower).rsplit_once('.').map_or("", |(_, e)| e);
    COMPILED_EXTENSIONS.contains(&extension) || lower.split('/').any(|part| part == "__pycache__")
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn is_env_file(path: &str) -> bool {
    let name = file_name(path);
    name == ".env"
        || (name.starts_with(".env.") && !name.ends_with(".example") && !name.ends_with(".sample"))
}

/// The file-type layer: executables, compiled code and nested archives block, other
/// binaries warn, unknown text formats are noted.
fn file_types(files: &[File]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for file in files {
        if is_archive(&file.path, &file.bytes) {
            findings.push(
                Finding::new(
                    Severity::High,
                    "nested_archive",
                    "file_type.archive",
                    "The file is an archive: its contents cannot be scanned.",
                )
                .in_file(&file.path),
            );
            continue;
        }
        if is_compiled(&file.path) {
            findings.push(
                Finding::new(
                    Severity::High,
                    "compiled_code",
                    "file_type.compiled",
                    "The file is compiled code, which cannot be reviewed as source.",
                )
                .in_file(&file.path),
            );
            continue;
        }
        if let Some((_, what)) =
            EXECUTABLE_MAGIC.iter().find(|(magic, _)| file.bytes.starts_with(magic))
        {
            findings.push(
                Finding::new(
                    Severity::High,
                    "executable",
                    "file_type.executable",
                    format!("The file is {what}."),
                )
                .in_file(&file.path),
            );
            continue;
        }
        if file.text().is_none_or(|text| text.contains('\0')) {
            findings.push(
                Finding::new(
                    Severity::Medium,
                    "binary",
                    "file_type.binary",
                    "The file is not UTF-8 or UTF-16 text.",
                )
                .in_file(&file.path),
            );
            continue;
        }
        let name = file_name(&file.path);
        let extension = name.rsplit_once('.').map(|(_, e)| e.to_lowercase());
        let known = match extension {
            Some(e) => TEXT_EXTENSIONS.contains(&e.as_str()) || name.starts_with(".env"),
            None => matches!(name, "LICENSE" | "Makefile" | "Dockerfile" | "README" | "NOTICE"),
        };
        if !known {
            findings.push(
                Finding::new(
                    Severity::Low,
                    "file_type",
                    "file_type.unknown",
                    "The file type is not a common text format.",
                )
                .in_file(&file.path),
            );
        }
    }
    findings
}

/// The text files, decoded (UTF-8 or UTF-16), with their paths.
fn texts(files: &[File]) -> Vec<(&str, std::borrow::Cow<'_, str>)> {
    files.iter().filter_map(|f| f.text().map(|t| (f.path.as_str(), t))).collect()
}

fn is_markdown(path: &str) -> bool {
    let lower = path.to_lowercase();
    lower.ends_with(".md") || lower.ends_with(".markdown")
}

/// Scans a package archive with the built-in rules.
pub fn scan(bytes: &[u8], kind: PackageKind, limits: &Limits) -> Report {
    scan_with(bytes, kind, limits, &DenyPatterns::default())
}

/// Scans a package archive with the built-in rules and the operator's `deny` patterns
/// (their findings are in the `dangerous_code` layer).
pub fn scan_with(bytes: &[u8], kind: PackageKind, limits: &Limits, deny: &DenyPatterns) -> Report {
    let (files, archive_findings) = archive::read(bytes, limits);
    let safe = report::verdict(&archive_findings) != Status::Block;
    let mut layers = vec![Layer::ran("archive_safety", archive_findings)];
    if !safe {
        for name in [
            "file_types",
            "manifest",
            "secrets",
            "dangerous_code",
            "prompt_injection",
            "agent_tools",
        ] {
            layers.push(Layer::skipped(name));
        }
        return Report::of(layers, None);
    }
    layers.push(Layer::ran("file_types", file_types(&files)));
    let manifest = manifest::check(&files, kind);
    layers.push(Layer::ran("manifest", manifest.findings));

    let mut secrets: Vec<Finding> = files
        .iter()
        .filter(|f| is_env_file(&f.path))
        .map(|f| {
            Finding::new(
                Severity::High,
                "secret",
                "secrets.env_file",
                "An environment file (.env) is included.",
            )
            .in_file(&f.path)
        })
        .collect();
    let texts = texts(&files);
    secrets.extend(
        texts.iter().flat_map(|(path, text)| rules::scan(TextLayer::Secrets, Some(path), text)),
    );
    layers.push(Layer::ran("secrets", secrets));
    let dangerous = texts
        .iter()
        .flat_map(|(path, text)| {
            let mut found = rules::scan(TextLayer::DangerousCode, Some(path), text);
            found.extend(deny.scan(path, text));
            found
        })
        .collect();
    layers.push(Layer::ran("dangerous_code", dangerous));
    let injection = texts
        .iter()
        .filter(|(path, _)| is_markdown(path))
        .flat_map(|(path, text)| rules::scan(TextLayer::PromptInjection, Some(path), text))
        .collect();
    layers.push(Layer::ran("prompt_injection", injection));
    layers.push(match kind {
        PackageKind::Agent => Layer::ran(
            "agent_tools",
            manifest::audit_tools(manifest.frontmatter.as_ref(), manifest.file.as_deref()),
        ),
        PackageKind::Skill => Layer::skipped("agent_tools"),
    });
    let hash = ap_domain::content::content_hash(
        files.iter().map(|f| (f.path.as_str(), f.bytes.as_slice())),
    );
    Report::of(layers, Some(hash))
}

/// Scans a review's text with the prompt-injection rules (reviews are read by people and
/// by AI tools alike).
pub fn scan_review(text: &str) -> Vec<Finding> {
    rules::scan(TextLayer::PromptInjection, Some("text"), text)
}

/// Scans listing text (title, descriptions) with the secret, dangerous-code and prompt rules.
pub fn scan_text(fields: &[(&str, &str)]) -> Vec<Finding> {
    fields
        .iter()
        .flat_map(|(name, text)| {
            [TextLayer::Secrets, TextLayer::DangerousCode, TextLayer::PromptInjection]
                .into_iter()
                .flat_map(move |layer| rules::scan(layer, Some(name), text))
        })
        .collect()
}
