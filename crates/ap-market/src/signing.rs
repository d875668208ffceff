//! Signed download links: `/v1/files/{version_id}/{file name}?sha256=…&expires=…&signature=…`.
//!
//! The signature is HMAC-SHA256 over the version id, file name, archive hash and expiry,
//! keyed by a server secret shared by every instance. A link is issued only for a version
//! its caller may fetch (live, and bought when paid), so serving it needs no access
//! check: the file route checks the signature and the expiry, and that the version was
//! not withdrawn since (one primary-key read), then reads the archive by hash. Changing any part of the link, or waiting past `expires`, makes it useless.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The signing key (never printed).
#[derive(Clone)]
pub struct UrlSigner {
    key: Vec<u8>,
}

impl std::fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UrlSigner(..)")
    }
}

/// What a link names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileLink<'a> {
    /// The version served.
    pub version_id: &'a str,
    /// The file name in the path (`slug-1.0.0.zip`), also the download's file name.
    pub file_name: &'a str,
    /// SHA-256 of the archive.
    pub sha256: &'a str,
    /// Expiry, seconds since the epoch.
    pub expires: i64,
}

/// Why a link is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// The signature does not match what the link names.
    Invalid,
    /// The link is past its expiry.
    Expired,
}

impl UrlSigner {
    /// A signer with this secret (at least 32 bytes of randomness).
    pub fn new(key: impl Into<Vec<u8>>) -> Self {
        Self { key: key.into() }
    }

    fn mac(&self, link: &FileLink<'_>) -> HmacSha256 {
        // HMAC accepts keys of any length.
        let mut mac = HmacSha256::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!());
        for part in [link.version_id, link.file_name, link.sha256] {
            mac.update(part.as_bytes());
            mac.update(b"\n");
        }
        mac.update(link.expires.to_string().as_bytes());
        mac
    }

    /// A stable pseudonym of `who` under the server key (the same on every instance), so
    /// counts can tell visitors apart without keeping who they are.
    pub fn pseudonym(&self, who: &str) -> String {
        let mut mac = HmacSha256::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!());
        mac.update(b"visitor\n");
        mac.update(who.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// The absolute URL of a link under `base` (no trailing slash).
    pub fn url(&self, base: &str, link: &FileLink<'_>) -> String {
        let signature = hex::encode(self.mac(link).finalize().into_bytes());
        format!(
            "{base}/v1/files/{}/{}?sha256={}&expires={}&signature={signature}",
            link.version_id, link.file_name, link.sha256, link.expires
        )
    }

    /// Checks a link's signature (in constant time), then its expiry.
    pub fn verify(
        &self,
        link: &FileLink<'_>,
        signature: &str,
        now: DateTime<Utc>,
    ) -> Result<(), LinkError> {
        let signature = hex::decode(signature).map_err(|_| LinkError::Invalid)?;
        self.mac(link).verify_slice(&signature).map_err(|_| LinkError::Invalid)?;
        if now.timestamp() >= link.expires {
            return Err(LinkError::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(expires: i64) -> FileLink<'static> {
        FileLink { version_id: "v1", file_name: "demo-1.0.0.zip", sha256: "ab", expires }
    }

    fn signature_of(url: &str) -> &str {
        url.rsplit_once("signature=").map(|(_, s)| s).unwrap_or("")
    }

    #[test]
    fn a_link_verifies_until_it_expires() {
        let signer = UrlSigner::new(b"k".repeat(32));
        let now = Utc::now();
        let good = link(now.timestamp() + 60);
        let url = signer.url("http://h", &good);
        assert!(url.starts_with("http://h/v1/files/v1/demo-1.0.0.zip?sha256=ab&expires="));
        let sig = signature_of(&url);
        assert_eq!(signer.verify(&good, sig, now), Ok(()));
        assert_eq!(
            signer.verify(&good, sig, now + chrono::Duration::seconds(60)),
            Err(LinkError::Expired)
        );
        for tampered in [
            FileLink { version_id: "v2", ..good.clone() },
            FileLink { file_name: "other.zip", ..good.clone() },
            FileLink { sha256: "cd", ..good.clone() },
            FileLink { expires: good.expires + 3600, ..good.clone() },
        ] {
            assert_eq!(signer.verify(&tampered, sig, now), Err(LinkError::Invalid));
        }
        assert_eq!(signer.verify(&good, "zz", now), Err(LinkError::Invalid));
        let other_key = UrlSigner::new(b"x".repeat(32));
        assert_eq!(other_key.verify(&good, sig, now), Err(LinkError::Invalid));
    }
}
