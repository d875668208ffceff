//! Fuzzes the `Stripe-Signature` header parser and check, `ap_payments::signature::parse`
//! and `verify`, which every delivery to `POST /v1/webhooks/stripe` goes through.
//!
//! Input: 8 bytes of timestamp (little-endian `i64`, the whole range), then header text up
//! to the first newline, then the payload. Checked:
//!
//! - arbitrary header text never panics either function; `verify` calls a header
//!   malformed exactly when `parse` refuses it, and a header it accepts for one secret is
//!   refused for another;
//! - a header made by `sign` at any timestamp parses back to that timestamp and one
//!   32-byte signature; at a fixed "now" it verifies when the timestamp is within
//!   `TOLERANCE_SECS` of now and is stale otherwise (whatever the distance, with no
//!   overflow); it never verifies with another secret or a changed payload; and, where
//!   the timestamp is a representable date, it verifies at that time and
//!   `TOLERANCE_SECS` later and is stale one second after that.
#![no_main]

use ap_payments::signature::{self, SignatureError, TOLERANCE_SECS};
use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "whsec_fuzz";
const OTHER: &str = "whsec_other";
/// The fixed "now" (2023-11-14), in Unix seconds.
const NOW: i64 = 1_700_000_000;

fn at(secs: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(secs, 0)
}

fuzz_target!(|data: &[u8]| {
    let Some((stamp, rest)) = data.split_first_chunk::<8>() else { return };
    let t = i64::from_le_bytes(*stamp);
    let split = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
    let (head, payload) = (&rest[..split], rest.get(split + 1..).unwrap_or_default());
    let now = at(NOW).expect("a valid date");

    if let Ok(header) = std::str::from_utf8(head) {
        let parsed = signature::parse(header);
        if let Ok(parts) = &parsed {
            assert!(!parts.signatures.is_empty());
        }
        let verdict = signature::verify(Some(header), payload, SECRET, now);
        assert_eq!(parsed.is_err(), verdict == Err(SignatureError::Malformed), "{header:?}");
        if verdict.is_ok() {
            assert_ne!(signature::verify(Some(header), payload, OTHER, now), Ok(()));
        }
    }

    let signed = signature::sign(payload, SECRET, t);
    let parts = signature::parse(&signed).expect("a signed header parses");
    assert_eq!(parts.timestamp, t);
    assert_eq!(parts.signatures.len(), 1);
    assert_eq!(parts.signatures[0].len(), 32);
    let fresh = NOW.abs_diff(t) <= TOLERANCE_SECS.unsigned_abs();
    let expected = if fresh { Ok(()) } else { Err(SignatureError::Stale) };
    assert_eq!(signature::verify(Some(&signed), payload, SECRET, now), expected, "t = {t}");
    assert_ne!(signature::verify(Some(&signed), payload, OTHER, now), Ok(()));
    let mut changed = payload.to_vec();
    changed.push(b' ');
    assert_ne!(signature::verify(Some(&signed), &changed, SECRET, now), Ok(()));

    let later = t.checked_add(TOLERANCE_SECS).and_then(at);
    let too_late = t.checked_add(TOLERANCE_SECS + 1).and_then(at);
    if let (Some(then), Some(later), Some(too_late)) = (at(t), later, too_late) {
        assert_eq!(signature::verify(Some(&signed), payload, SECRET, then), Ok(()));
        assert_eq!(signature::verify(Some(&signed), payload, SECRET, later), Ok(()));
        let stale = signature::verify(Some(&signed), payload, SECRET, too_late);
        assert_eq!(stale, Err(SignatureError::Stale));
        let other = signature::verify(Some(&signed), payload, OTHER, then);
        assert_eq!(other, Err(SignatureError::Mismatch));
    }
});
