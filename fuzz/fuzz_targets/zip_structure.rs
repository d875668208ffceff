//! Fuzzes the ZIP structure check, `ap_scan::layout::check`: the byte-by-byte parse of the
//! end-of-central-directory record, the central directory and the local headers that
//! every upload goes through before anything is inflated.
//!
//! Checked: it never panics; whatever it refuses is refused with a blocking (`High`)
//! `archive.*` finding; and an archive it accepts that has an end record is walked again
//! here, independently, asserting that every offset lies inside the file: the end record
//! ends the file, the central directory runs up to it and holds exactly the declared
//! records, and each record's local header and data lie before the directory. The same
//! archive with one byte prepended must then be refused (nothing may precede the first
//! entry).
#![no_main]

use ap_scan::Severity;
use ap_scan::layout::check;
use libfuzzer_sys::fuzz_target;

const END: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
const CENTRAL: [u8; 4] = [0x50, 0x4b, 0x01, 0x02];
const LOCAL: [u8; 4] = [0x50, 0x4b, 0x03, 0x04];

fn u16_at(bytes: &[u8], at: usize) -> usize {
    usize::from(u16::from_le_bytes([bytes[at], bytes[at + 1]]))
}

fn u32_at(bytes: &[u8], at: usize) -> usize {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize
}

/// Walks an archive that `check` accepted and asserts that its offsets lie inside the
/// file; answers whether it had an end record at all (without one, `check` leaves the
/// bytes to the ZIP reader).
fn assert_offsets_inside(bytes: &[u8]) -> bool {
    let Some(last) = bytes.len().checked_sub(22) else { return false };
    let first = bytes.len().saturating_sub(22 + usize::from(u16::MAX));
    let Some(end) = (first..=last).rev().find(|&at| bytes[at..at + 4] == END) else {
        return false;
    };
    assert_eq!(end + 22 + u16_at(bytes, end + 20), bytes.len(), "the end record ends the file");
    let entries = u16_at(bytes, end + 10);
    let directory_at = u32_at(bytes, end + 16);
    assert_eq!(directory_at + u32_at(bytes, end + 12), end, "the directory ends at the end record");
    let mut at = directory_at;
    for _ in 0..entries {
        assert!(at + 46 <= end, "the central record at {at} lies inside the directory");
        assert!(bytes[at..at + 4] == CENTRAL, "a central record starts at {at}");
        let local = u32_at(bytes, at + 42);
        assert!(local + 30 <= directory_at, "the local header at {local} precedes the directory");
        assert!(bytes[local..local + 4] == LOCAL, "a local header starts at {local}");
        let data_at = local + 30 + u16_at(bytes, local + 26) + u16_at(bytes, local + 28);
        let data_end = data_at + u32_at(bytes, at + 20);
        assert!(data_end <= directory_at, "the data {data_at}..{data_end} precedes the directory");
        at += 46 + u16_at(bytes, at + 28) + u16_at(bytes, at + 30) + u16_at(bytes, at + 32);
    }
    assert_eq!(at, end, "the {entries} records fill the directory");
    true
}

fuzz_target!(|data: &[u8]| {
    match check(data) {
        Some(finding) => {
            assert_eq!(finding.severity, Severity::High);
            assert!(finding.rule.starts_with("archive."), "{}", finding.rule);
        }
        None => {
            if assert_offsets_inside(data) {
                let mut shifted = Vec::with_capacity(data.len() + 1);
                shifted.push(0);
                shifted.extend_from_slice(data);
                assert!(check(&shifted).is_some(), "a byte before an accepted archive is refused");
            }
        }
    }
});
