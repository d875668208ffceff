//! The ZIP archive's structure, read byte by byte before anything is inflated.
//!
//! A ZIP file can be read two ways: from its central directory (what the scanner's ZIP
//! reader does) or front to back through its local headers (what a streaming extractor
//! does). An archive whose two readings differ can show the scan one set of files and
//! install another. So the structure must be the plain one every honest writer makes:
//!
//! - one end-of-central-directory record, ending the file (or followed by its comment);
//!   one disk; no ZIP64 record or extra field (packages are far below ZIP64 sizes);
//! - its two entry counts equal, and equal to the records actually present, which fill
//!   the central directory exactly;
//! - each record's local header where it says, with the same name, method and sizes;
//! - the local entries (header, data, optional data descriptor) tiling the file from
//!   byte 0 to the central directory, which runs up to the end record: nothing
//!   prepended, nothing between or under the entries that the directory does not list;
//! - no two entries of the same name (ignoring case and a trailing `/`).

use std::collections::HashSet;

use crate::report::{Finding, Severity};

const END_SIGNATURE: u32 = 0x0605_4b50;
const ZIP64_LOCATOR_SIGNATURE: u32 = 0x0706_4b50;
const CENTRAL_SIGNATURE: u32 = 0x0201_4b50;
const LOCAL_SIGNATURE: u32 = 0x0403_4b50;
const DESCRIPTOR_SIGNATURE: u32 = 0x0807_4b50;
const END_LEN: usize = 22;
const CENTRAL_LEN: usize = 46;
const LOCAL_LEN: usize = 30;
const ZIP64_LOCATOR_LEN: usize = 20;
/// Extra-field id of ZIP64 sizes and offsets.
const ZIP64_EXTRA: u16 = 0x0001;
/// General-purpose flag: sizes follow the data in a descriptor.
const HAS_DESCRIPTOR: u16 = 1 << 3;

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at.checked_add(2)?)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

fn block(rule: &str, category: &str, detail: impl Into<String>) -> Finding {
    Finding::new(Severity::High, category, rule, detail)
}

fn unreadable(detail: &str) -> Finding {
    block(
        "archive.corrupt",
        "archive_format",
        format!("The archive structure is broken: {detail}."),
    )
}

/// The end-of-central-directory record.
struct End {
    at: usize,
    disk: u16,
    directory_disk: u16,
    entries_here: u16,
    entries_total: u16,
    directory_size: u32,
    directory_offset: u32,
    comment_len: u16,
}

impl End {
    /// The last end record of the file (a comment may follow it).
    fn find(bytes: &[u8]) -> Option<End> {
        let from = bytes.len().saturating_sub(END_LEN + usize::from(u16::MAX));
        let at = (from..=bytes.len().checked_sub(END_LEN)?)
            .rev()
            .find(|&at| u32_at(bytes, at) == Some(END_SIGNATURE))?;
        Some(End {
            at,
            disk: u16_at(bytes, at + 4)?,
            directory_disk: u16_at(bytes, at + 6)?,
            entries_here: u16_at(bytes, at + 8)?,
            entries_total: u16_at(bytes, at + 10)?,
            directory_size: u32_at(bytes, at + 12)?,
            directory_offset: u32_at(bytes, at + 16)?,
            comment_len: u16_at(bytes, at + 20)?,
        })
    }

    fn zip64_marker(&self) -> bool {
        self.entries_here == u16::MAX
            || self.entries_total == u16::MAX
            || self.directory_size == u32::MAX
            || self.directory_offset == u32::MAX
    }
}

/// One central-directory record, as far as the structure needs it.
struct Record {
    name: Vec<u8>,
    flags: u16,
    method: u16,
    crc: u32,
    compressed: u32,
    size: u32,
    disk: u16,
    local_offset: u32,
    zip64_extra: bool,
}

/// Whether an extra-field block holds a ZIP64 field.
fn has_zip64_extra(mut extra: &[u8]) -> bool {
    while extra.len() >= 4 {
        let id = u16::from_le_bytes([extra[0], extra[1]]);
        let len = usize::from(u16::from_le_bytes([extra[2], extra[3]]));
        if id == ZIP64_EXTRA {
            return true;
        }
        extra = extra.get(4 + len..).unwrap_or_default();
    }
    false
}

/// The central-directory records in `directory`, in order; `None` when a record is cut
/// short or another signature stands where a record should start.
fn records(directory: &[u8]) -> Option<Vec<Record>> {
    let mut records = Vec::new();
    let mut at = 0;
    while at < directory.len() {
        if u32_at(directory, at)? != CENTRAL_SIGNATURE {
            return None;
        }
        let name_len = usize::from(u16_at(directory, at + 28)?);
        let extra_len = usize::from(u16_at(directory, at + 30)?);
        let comment_len = usize::from(u16_at(directory, at + 32)?);
        let name_at = at + CENTRAL_LEN;
        let extra_at = name_at + name_len;
        let next = extra_at + extra_len + comment_len;
        records.push(Record {
            name: directory.get(name_at..extra_at)?.to_vec(),
            flags: u16_at(directory, at + 8)?,
            method: u16_at(directory, at + 10)?,
            crc: u32_at(directory, at + 16)?,
            compressed: u32_at(directory, at + 20)?,
            size: u32_at(directory, at + 24)?,
            disk: u16_at(directory, at + 34)?,
            local_offset: u32_at(directory, at + 42)?,
            zip64_extra: has_zip64_extra(directory.get(extra_at..extra_at + extra_len)?),
        });
        at = next;
    }
    (at == directory.len()).then_some(records)
}

/// Where one local entry lies in the file, and the name it carries.
struct Span {
    start: usize,
    end: usize,
    name: String,
}

/// Checks the local entry of `record`; answers its span.
fn local_entry(bytes: &[u8], record: &Record) -> Result<Span, Box<Finding>> {
    let display = String::from_utf8_lossy(&record.name).into_owned();
    let start = record.local_offset as usize;
    let cut = || unreadable("an entry's local header is missing or cut short").in_file(&display);
    if u32_at(bytes, start) != Some(LOCAL_SIGNATURE) {
        return Err(Box::new(cut()));
    }
    let flags = u16_at(bytes, start + 6).ok_or_else(cut)?;
    let method = u16_at(bytes, start + 8).ok_or_else(cut)?;
    let name_len = usize::from(u16_at(bytes, start + 26).ok_or_else(cut)?);
    let extra_len = usize::from(u16_at(bytes, start + 28).ok_or_else(cut)?);
    let name_at = start + LOCAL_LEN;
    let name = bytes.get(name_at..name_at + name_len).ok_or_else(cut)?;
    let extra = bytes.get(name_at + name_len..name_at + name_len + extra_len).ok_or_else(cut)?;
    if name != record.name.as_slice() {
        return Err(Box::new(
            block(
                "archive.name_mismatch",
                "header_mismatch",
                format!(
                    "The entry is named `{}` in its local header but `{display}` in the central \
                 directory: extractors would disagree on what it is.",
                    String::from_utf8_lossy(name)
                ),
            )
            .in_file(&display),
        ));
    }
    if has_zip64_extra(extra) {
        return Err(Box::new(zip64().in_file(&display)));
    }
    let mismatch = || {
        block(
            "archive.header_mismatch",
            "header_mismatch",
            "The entry's local header and central directory disagree on its method or sizes.",
        )
        .in_file(&display)
    };
    if method != record.method || (flags & HAS_DESCRIPTOR) != (record.flags & HAS_DESCRIPTOR) {
        return Err(Box::new(mismatch()));
    }
    let data_at = name_at + name_len + extra_len;
    let mut end = data_at.checked_add(record.compressed as usize).ok_or_else(cut)?;
    if end > bytes.len() {
        return Err(Box::new(cut()));
    }
    if flags & HAS_DESCRIPTOR == 0 {
        let local = (
            u32_at(bytes, start + 14).ok_or_else(cut)?,
            u32_at(bytes, start + 18).ok_or_else(cut)?,
            u32_at(bytes, start + 22).ok_or_else(cut)?,
        );
        if local != (record.crc, record.compressed, record.size) {
            return Err(Box::new(mismatch()));
        }
    } else {
        // The descriptor: CRC and both sizes, with or without its signature.
        let signed = u32_at(bytes, end) == Some(DESCRIPTOR_SIGNATURE);
        let fields = if signed { end + 4 } else { end };
        let described =
            (u32_at(bytes, fields), u32_at(bytes, fields + 4), u32_at(bytes, fields + 8));
        if described != (Some(record.crc), Some(record.compressed), Some(record.size)) {
            return Err(Box::new(mismatch()));
        }
        end = fields + 12;
    }
    Ok(Span { start, end, name: display })
}

fn zip64() -> Finding {
    block(
        "archive.zip64",
        "archive_format",
        "The archive uses ZIP64 records, which packages never need and readers disagree on.",
    )
}

fn overlapping(name: &str) -> Finding {
    block(
        "archive.overlapping",
        "overlapping_entries",
        "Several entries share the same data (a zip bomb).",
    )
    .in_file(name)
}

fn unlisted(detail: &str) -> Finding {
    block(
        "archive.unlisted_entry",
        "unlisted_data",
        format!("{detail}: a streaming extractor would read what the scan never sees."),
    )
}

/// Checks the archive's structure; answers the first finding that blocks it, `None` for
/// a plain archive. Bytes without an end record are left to the ZIP reader (not a ZIP).
/// Public for the `zip_structure` fuzz target; [`crate::archive::read`] calls it first.
pub fn check(bytes: &[u8]) -> Option<Finding> {
    structure(bytes).err().map(|finding| *finding)
}

fn structure(bytes: &[u8]) -> Result<(), Box<Finding>> {
    let Some(end) = End::find(bytes) else { return Ok(()) };
    let before_end = end.at.checked_sub(ZIP64_LOCATOR_LEN);
    if end.zip64_marker()
        || before_end.is_some_and(|at| u32_at(bytes, at) == Some(ZIP64_LOCATOR_SIGNATURE))
    {
        return Err(Box::new(zip64()));
    }
    if end.disk != 0 || end.directory_disk != 0 {
        return Err(Box::new(block(
            "archive.multi_disk",
            "archive_format",
            "The archive claims to span several disks.",
        )));
    }
    if end.at + END_LEN + usize::from(end.comment_len) != bytes.len() {
        return Err(Box::new(block(
            "archive.trailing_data",
            "unlisted_data",
            "Bytes follow the end of the archive.",
        )));
    }
    if end.entries_here != end.entries_total {
        return Err(Box::new(block(
            "archive.count_mismatch",
            "entry_count",
            format!(
                "The archive declares {} entries on this disk but {} in all.",
                end.entries_here, end.entries_total
            ),
        )));
    }
    let directory_size = end.directory_size as usize;
    let directory_at = end.at.checked_sub(directory_size).ok_or_else(|| {
        unreadable("the central directory is larger than what precedes the end record")
    })?;
    if directory_at != end.directory_offset as usize {
        return Err(Box::new(if directory_at > end.directory_offset as usize {
            block(
                "archive.prepended_data",
                "unlisted_data",
                "Data is prepended to the archive (its offsets are shifted).",
            )
        } else {
            unreadable("the central directory does not end where the end record starts")
        }));
    }
    let records = records(&bytes[directory_at..end.at])
        .ok_or_else(|| unreadable("the central directory holds a broken record"))?;
    if records.len() != usize::from(end.entries_total) {
        return Err(Box::new(block(
            "archive.count_mismatch",
            "entry_count",
            format!(
                "The archive declares {} entries but its central directory holds {}.",
                end.entries_total,
                records.len()
            ),
        )));
    }
    // The ZIP reader keeps one entry per name; an extractor writes them all, the last
    // one winning (names differing only in case collide on many file systems).
    let mut names = HashSet::new();
    if let Some(twin) = records.iter().find(|r| {
        !names.insert(String::from_utf8_lossy(&r.name).trim_end_matches('/').to_lowercase())
    }) {
        return Err(Box::new(
            block("archive.duplicate", "duplicate_name", "Two entries have the same name.")
                .in_file(&String::from_utf8_lossy(&twin.name)),
        ));
    }
    let mut offsets = HashSet::new();
    if let Some(shared) = records.iter().find(|r| !offsets.insert(r.local_offset)) {
        return Err(Box::new(overlapping(&String::from_utf8_lossy(&shared.name))));
    }
    let mut spans = Vec::with_capacity(records.len());
    for record in &records {
        let display = String::from_utf8_lossy(&record.name).into_owned();
        if record.zip64_extra {
            return Err(Box::new(zip64().in_file(&display)));
        }
        if record.disk != 0 {
            return Err(Box::new(
                block(
                    "archive.multi_disk",
                    "archive_format",
                    "An entry claims to start on another disk.",
                )
                .in_file(&display),
            ));
        }
        spans.push(local_entry(bytes, record)?);
    }
    spans.sort_by_key(|span| (span.start, span.end));
    let mut covered = 0;
    for span in &spans {
        if span.start < covered {
            return Err(Box::new(overlapping(&span.name)));
        }
        if span.start > covered {
            return Err(Box::new(if covered == 0 {
                block(
                    "archive.prepended_data",
                    "unlisted_data",
                    "Data precedes the archive's first entry.",
                )
            } else {
                unlisted("Bytes lie between entries that the central directory does not list")
            }));
        }
        covered = span.end;
    }
    if covered != directory_at {
        return Err(Box::new(if spans.is_empty() && directory_at > 0 {
            block("archive.prepended_data", "unlisted_data", "Data precedes the archive.")
        } else {
            unlisted("Bytes lie after the last listed entry")
        }));
    }
    Ok(())
}
