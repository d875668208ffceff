//! Reading a ZIP archive safely: every cap is checked from the central directory first and
//! enforced again while inflating, so a lying header cannot make the reader allocate more
//! than the caps allow. Before any of that, the archive's structure is checked byte by
//! byte (`layout`), so the entries read here are the ones any extractor would write.

use std::io::{Cursor, Read};

use crate::report::{Finding, Severity};

/// Caps of the archive reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest archive (compressed), bytes.
    pub max_archive_bytes: usize,
    /// Most entries (files and folders).
    pub max_entries: usize,
    /// Largest file once inflated, bytes.
    pub max_entry_bytes: u64,
    /// Most bytes inflated over all files.
    pub max_total_bytes: u64,
    /// Largest inflated/compressed ratio of one entry.
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_archive_bytes: 10 * 1024 * 1024,
            max_entries: 1_000,
            max_entry_bytes: 5 * 1024 * 1024,
            max_total_bytes: 50 * 1024 * 1024,
            max_ratio: 200,
        }
    }
}

/// One regular file of the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// Its path inside the archive (`/` separators).
    pub path: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

impl File {
    /// The file as text: UTF-8, or UTF-16 (little- or big-endian) announced by its byte
    /// order mark, so text in either is scanned alike. `None` for anything else.
    pub fn text(&self) -> Option<std::borrow::Cow<'_, str>> {
        if let Ok(text) = std::str::from_utf8(&self.bytes) {
            return Some(std::borrow::Cow::Borrowed(text));
        }
        type Unit = fn([u8; 2]) -> u16;
        let (rest, from): (&[u8], Unit) = match self.bytes.as_slice() {
            [0xff, 0xfe, rest @ ..] => (rest, u16::from_le_bytes),
            [0xfe, 0xff, rest @ ..] => (rest, u16::from_be_bytes),
            _ => return None,
        };
        if rest.len() % 2 != 0 {
            return None;
        }
        let units = rest.chunks_exact(2).map(|pair| from([pair[0], pair[1]]));
        char::decode_utf16(units).collect::<Result<String, _>>().ok().map(std::borrow::Cow::Owned)
    }
}

/// At most this many archive findings are reported (the first ones tell the story).
const MAX_FINDINGS: usize = 20;

fn block(rule: &str, category: &str, detail: impl Into<String>) -> Finding {
    Finding::new(Severity::High, category, rule, detail)
}

/// Why an entry name is unsafe, if it is.
fn unsafe_name(name: &str) -> Option<(&'static str, &'static str)> {
    let bytes = name.as_bytes();
    if name.is_empty() || name.chars().any(|c| c.is_control()) {
        return Some(("archive.bad_name", "The entry name is empty or holds control characters."));
    }
    if name.contains('\\') {
        return Some((
            "archive.backslash",
            "The entry path uses backslashes (a Windows path escape).",
        ));
    }
    if name.starts_with('/') {
        return Some(("archive.absolute_path", "The entry path is absolute."));
    }
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return Some(("archive.drive_letter", "The entry path starts with a drive letter."));
    }
    if name.split('/').any(|part| part == "..") {
        return Some(("archive.zip_slip", "The entry path climbs out of the package with `..`."));
    }
    None
}

/// Reads every regular file; answers the files and the findings of the archive layer. When
/// a finding blocks, the files are not (all) read.
pub fn read(bytes: &[u8], limits: &Limits) -> (Vec<File>, Vec<Finding>) {
    let mut findings = Vec::new();
    if bytes.len() > limits.max_archive_bytes {
        findings.push(block(
            "archive.too_large",
            "archive_size",
            format!("The archive is larger than {} bytes.", limits.max_archive_bytes),
        ));
        return (Vec::new(), findings);
    }
    // The structure first: what the reader below sees is what any extractor would.
    if let Some(finding) = crate::layout::check(bytes) {
        findings.push(finding);
        return (Vec::new(), findings);
    }
    let mut archive = match zip::ZipArchive::new(Cursor::new(bytes)) {
        Ok(archive) => archive,
        Err(error) => {
            findings.push(block(
                "archive.not_zip",
                "archive_format",
                format!("The upload is not a readable ZIP archive ({error})."),
            ));
            return (Vec::new(), findings);
        }
    };
    if archive.len() > limits.max_entries {
        findings.push(block(
            "archive.too_many_entries",
            "entry_count",
            format!(
                "The archive has {} entries; at most {} are accepted.",
                archive.len(),
                limits.max_entries
            ),
        ));
        return (Vec::new(), findings);
    }

    // First pass: names and declared sizes, from the central directory only.
    let mut regular = Vec::new();
    for index in 0..archive.len() {
        if findings.len() >= MAX_FINDINGS {
            break;
        }
        let entry = match archive.by_index_raw(index) {
            Ok(entry) => entry,
            Err(error) => {
                findings.push(block(
                    "archive.corrupt",
                    "archive_format",
                    format!("An entry cannot be read ({error})."),
                ));
                continue;
            }
        };
        let name = entry.name().to_owned();
        if let Some((rule, detail)) = unsafe_name(&name) {
            findings.push(block(rule, "zip_slip", detail).in_file(&name));
            continue;
        }
        if entry.is_symlink() {
            findings.push(
                block("archive.symlink", "symlink", "The archive holds a symbolic link.")
                    .in_file(&name),
            );
            continue;
        }
        if entry.encrypted() {
            findings.push(
                block(
                    "archive.encrypted",
                    "encrypted",
                    "The entry is encrypted and cannot be scanned.",
                )
                .in_file(&name),
            );
            continue;
        }
        if entry.is_dir() {
            continue;
        }
        if entry.size() > limits.max_entry_bytes {
            findings.push(
                block(
                    "archive.entry_too_large",
                    "inflated_size",
                    format!("The file inflates beyond {} bytes.", limits.max_entry_bytes),
                )
                .in_file(&name),
            );
            continue;
        }
        if entry.size() > entry.compressed_size().max(1).saturating_mul(limits.max_ratio)
            && entry.size() > 1024 * 1024
        {
            findings.push(
                block(
                    "archive.ratio",
                    "compression_ratio",
                    format!("The file is compressed more than {}:1.", limits.max_ratio),
                )
                .in_file(&name),
            );
            continue;
        }
        regular.push((index, name));
    }
    if !findings.is_empty() {
        return (Vec::new(), findings);
    }

    // Second pass: inflate, enforcing the caps on what actually comes out.
    let mut files = Vec::new();
    let mut total: u64 = 0;
    for (index, name) in regular {
        let entry = match archive.by_index(index) {
            Ok(entry) => entry,
            Err(error) => {
                findings.push(
                    block(
                        "archive.corrupt",
                        "archive_format",
                        format!("The file cannot be read ({error})."),
                    )
                    .in_file(&name),
                );
                return (Vec::new(), findings);
            }
        };
        let mut bytes = Vec::new();
        let budget = limits.max_entry_bytes.min(limits.max_total_bytes - total);
        match entry.take(budget + 1).read_to_end(&mut bytes) {
            Ok(_) if bytes.len() as u64 > budget => {
                findings.push(
                    block(
                        "archive.inflated_too_large",
                        "inflated_size",
                        "The package inflates beyond the size limit.",
                    )
                    .in_file(&name),
                );
                return (Vec::new(), findings);
            }
            Ok(_) => {}
            Err(error) => {
                findings.push(
                    block(
                        "archive.corrupt",
                        "archive_format",
                        format!("The file cannot be inflated ({error})."),
                    )
                    .in_file(&name),
                );
                return (Vec::new(), findings);
            }
        }
        total += bytes.len() as u64;
        files.push(File { path: name, bytes });
    }
    (files, findings)
}
