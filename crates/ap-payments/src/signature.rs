//! The `Stripe-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256>[,v1=…][,v0=…]`.
//!
//! The signed payload is `"{t}.{raw body}"`, keyed by the endpoint's webhook secret.
//! Several `v1` signatures may be present (while a secret is being rolled); one that
//! matches is enough. A timestamp more than the tolerance away from now is refused, so a
//! captured delivery cannot be replayed later.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far a delivery's timestamp may be from now (Stripe's default).
pub const TOLERANCE_SECS: i64 = 300;

/// Why a signature header was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No header, no timestamp or no `v1` signature.
    #[error("the signature header is missing or malformed")]
    Malformed,
    /// The timestamp is outside the tolerance.
    #[error("the signature is stale")]
    Stale,
    /// No `v1` signature matches.
    #[error("no signature matches")]
    Mismatch,
}

/// The parts of a signature header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    /// `t`.
    pub timestamp: i64,
    /// Every `v1`, decoded.
    pub signatures: Vec<Vec<u8>>,
}

/// Parses a header; unknown schemes (`v0`) and malformed `v1` values are skipped.
pub fn parse(header: &str) -> Result<SignatureHeader, SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let Some((key, value)) = part.trim().split_once('=') else { continue };
        match key {
            "t" => timestamp = value.parse::<i64>().ok(),
            "v1" => {
                if let Ok(bytes) = hex::decode(value) {
                    signatures.push(bytes);
                }
            }
            _ => {}
        }
    }
    match (timestamp, signatures.is_empty()) {
        (Some(timestamp), false) => Ok(SignatureHeader { timestamp, signatures }),
        _ => Err(SignatureError::Malformed),
    }
}

fn mac(secret: &str, timestamp: i64, payload: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length.
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac
}

/// Checks `header` over `payload` with `secret` at `now`.
pub fn verify(
    header: Option<&str>,
    payload: &[u8],
    secret: &str,
    now: DateTime<Utc>,
) -> Result<(), SignatureError> {
    let header = parse(header.ok_or(SignatureError::Malformed)?)?;
    // `abs_diff`: a timestamp near `i64::MIN` must be stale, not an overflow.
    if now.timestamp().abs_diff(header.timestamp) > TOLERANCE_SECS.unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    let expected = mac(secret, header.timestamp, payload);
    let matches = header.signatures.iter().any(|s| expected.clone().verify_slice(s).is_ok());
    if matches { Ok(()) } else { Err(SignatureError::Mismatch) }
}

/// The header Stripe would send for `payload` at `timestamp` (tests and local tools).
pub fn sign(payload: &[u8], secret: &str, timestamp: i64) -> String {
    let signature = hex::encode(mac(secret, timestamp, payload).finalize().into_bytes());
    format!("t={timestamp},v1={signature}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test";

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).expect("time")
    }

    #[test]
    fn a_signed_payload_verifies_within_the_tolerance() {
        let header = sign(b"{}", SECRET, 1_000);
        assert_eq!(verify(Some(&header), b"{}", SECRET, at(1_000)), Ok(()));
        assert_eq!(verify(Some(&header), b"{}", SECRET, at(1_300)), Ok(()));
        assert_eq!(verify(Some(&header), b"{}", SECRET, at(1_301)), Err(SignatureError::Stale));
        assert_eq!(verify(Some(&header), b"{}", SECRET, at(699)), Err(SignatureError::Stale));
    }

    #[test]
    fn extreme_timestamps_are_stale_not_an_overflow() {
        for t in [i64::MIN, i64::MIN + 1, i64::MAX] {
            let header = format!("t={t},v1={}", "00".repeat(32));
            assert_eq!(
                verify(Some(&header), b"{}", SECRET, at(1_000)),
                Err(SignatureError::Stale),
                "{header}"
            );
        }
    }

    #[test]
    fn any_v1_may_match_and_anything_else_is_refused() {
        let good = sign(b"{}", SECRET, 1_000);
        let good_sig = good.split_once("v1=").map(|(_, s)| s).unwrap_or_default();
        let several = format!("t=1000,v0=abc,v1={},v1={good_sig}", "00".repeat(32));
        assert_eq!(verify(Some(&several), b"{}", SECRET, at(1_000)), Ok(()));
        let cases = [
            (None, SignatureError::Malformed),
            (Some("garbage"), SignatureError::Malformed),
            (Some("t=1000"), SignatureError::Malformed),
            (Some("v1=00"), SignatureError::Malformed),
        ];
        for (header, error) in cases {
            assert_eq!(verify(header, b"{}", SECRET, at(1_000)), Err(error), "{header:?}");
        }
        assert_eq!(verify(Some(&good), b"{ }", SECRET, at(1_000)), Err(SignatureError::Mismatch));
        assert_eq!(
            verify(Some(&good), b"{}", "whsec_other", at(1_000)),
            Err(SignatureError::Mismatch)
        );
        let forged_time = good.replace("t=1000", "t=1001");
        assert_eq!(
            verify(Some(&forged_time), b"{}", SECRET, at(1_000)),
            Err(SignatureError::Mismatch)
        );
    }
}
