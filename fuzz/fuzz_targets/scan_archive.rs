//! Fuzzes the package scan with arbitrary bytes as the uploaded archive: it must never
//! panic, and every report must be internally consistent.
#![no_main]

use ap_scan::{Limits, PackageKind, Status, scan};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_total_bytes: 8 * 1024 * 1024, ..Limits::default() };
    for kind in [PackageKind::Skill, PackageKind::Agent] {
        let report = scan(data, kind, &limits);
        assert!(report.score <= 10);
        assert_ne!(report.status, Status::Skip);
        if report.status == Status::Pass {
            assert!(report.content_hash.is_some());
        }
    }
});
