//! CLI tokens: `ap_cli_` + 64 hex digits (32 bytes from the OS CSPRNG) + 8 hex digits of
//! checksum. The checksum lets malformed or mistyped tokens be refused without a database
//! query; only the SHA-256 of the whole token is ever stored.

use chrono::Duration;
use rand::TryRngCore;
use rand::rngs::OsRng;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::error::AuthError;

/// Every CLI token starts with this.
pub const PREFIX: &str = "ap_cli_";
/// Random bytes per token.
const RANDOM_BYTES: usize = 32;
/// Hex digits of checksum.
const CHECKSUM_HEX: usize = 8;
/// Total length of a token.
const TOKEN_LEN: usize = PREFIX.len() + RANDOM_BYTES * 2 + CHECKSUM_HEX;

/// How long a CLI token lives.
pub fn lifetime() -> Duration {
    Duration::days(90)
}

/// A CLI token as its holder sees it; `Debug` is redacted.
#[derive(Debug, Clone)]
pub struct CliToken(SecretString);

fn checksum(random_hex: &str) -> String {
    let digest =
        Sha256::new_with_prefix(b"ap_cli checksum ").chain_update(random_hex.as_bytes()).finalize();
    hex::encode(&digest[..CHECKSUM_HEX / 2])
}

impl CliToken {
    /// A new token from the operating system's CSPRNG.
    pub fn generate() -> Result<CliToken, AuthError> {
        let mut bytes = [0u8; RANDOM_BYTES];
        OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(|e| AuthError::Internal(format!("CSPRNG: {e}")))?;
        let random_hex = hex::encode(bytes);
        let token = format!("{PREFIX}{random_hex}{}", checksum(&random_hex));
        Ok(CliToken(SecretString::from(token)))
    }

    /// Checks the shape and checksum of a presented token (no storage involved).
    pub fn parse(text: &str) -> Result<CliToken, AuthError> {
        let body = text.strip_prefix(PREFIX).ok_or(AuthError::Unauthorized)?;
        let well_formed = text.len() == TOKEN_LEN
            && body.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !well_formed {
            return Err(AuthError::Unauthorized);
        }
        let (random_hex, sum) = body.split_at(RANDOM_BYTES * 2);
        if checksum(random_hex) != sum {
            return Err(AuthError::Unauthorized);
        }
        Ok(CliToken(SecretString::from(text.to_owned())))
    }

    /// The lowercase hex SHA-256 that storage keeps.
    pub fn hash(&self) -> String {
        hash(self.0.expose_secret())
    }

    /// The token text, for the one response that hands it to its owner.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// SHA-256 (lowercase hex) of a token's text.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_parse_and_differ() {
        let a = CliToken::generate().expect("token");
        let b = CliToken::generate().expect("token");
        assert!(a.expose().starts_with(PREFIX));
        assert_eq!(a.expose().len(), TOKEN_LEN);
        assert_ne!(a.expose(), b.expose());
        assert_eq!(CliToken::parse(a.expose()).expect("parses").hash(), a.hash());
        assert_eq!(a.hash().len(), 64);
        assert!(!format!("{a:?}").contains(&a.expose()[PREFIX.len()..]), "Debug is redacted");
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let good = CliToken::generate().expect("token");
        let text = good.expose();
        let mut flipped = text.to_owned();
        let last = flipped.pop().expect("char");
        flipped.push(if last == '0' { '1' } else { '0' });
        let upper = text.to_uppercase().replace("AP_CLI_", PREFIX);
        for bad in [
            "",
            "ap_cli_",
            "ap_cli_short",
            &text[..text.len() - 1],
            &format!("{text}0"),
            &flipped,
            &upper,
            &text.replace(PREFIX, "ap_xyz_"),
        ] {
            assert!(CliToken::parse(bad).is_err(), "{bad}");
        }
    }
}
