//! Fuzzes the CLI-token parser, `ap_auth::cli_token::CliToken::parse`, which every bearer
//! token starting `ap_cli_` goes through before any database lookup.
//!
//! Checked: it never panics on any text; a token it accepts round-trips (the parsed token
//! exposes exactly the text given, its hash is the SHA-256 storage keeps, and it parses
//! again to the same token). And from the input's first 32 bytes a well-formed token is
//! built (prefix, 64 hex digits, checksum recomputed here from the documented scheme):
//! it must parse, and a copy one character short, one character longer, or with one
//! checksum digit changed must not.
#![no_main]

use ap_auth::cli_token::{self, CliToken, PREFIX};
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

/// The token `PREFIX + hex(random) + checksum` (the scheme of `cli_token.rs`).
fn well_formed(random: &[u8]) -> String {
    let random_hex = hex::encode(random);
    let digest =
        Sha256::new_with_prefix(b"ap_cli checksum ").chain_update(random_hex.as_bytes()).finalize();
    format!("{PREFIX}{random_hex}{}", hex::encode(&digest[..4]))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(token) = CliToken::parse(text) {
            assert_eq!(token.expose(), text);
            assert!(text.starts_with(PREFIX));
            assert_eq!(token.hash(), cli_token::hash(text));
            let again = CliToken::parse(token.expose()).expect("an accepted token parses again");
            assert_eq!(again.hash(), token.hash());
        }
    }

    let Some(random) = data.get(..32) else { return };
    let token = well_formed(random);
    let parsed = CliToken::parse(&token).expect("a well-formed token parses");
    assert_eq!(parsed.expose(), token);
    assert!(CliToken::parse(&token[..token.len() - 1]).is_err(), "one character short");
    assert!(CliToken::parse(&format!("{token}0")).is_err(), "one character longer");
    // Change one checksum digit (the last 8 characters) to another hex digit.
    let at = token.len() - 8 + usize::from(data.get(32).copied().unwrap_or(0) % 8);
    let old = token.as_bytes()[at];
    let new = if old == b'0' { b'1' } else { b'0' };
    let mut changed = token.clone().into_bytes();
    changed[at] = new;
    let changed = String::from_utf8(changed).expect("hex digits are ASCII");
    assert!(CliToken::parse(&changed).is_err(), "a changed checksum digit: {changed}");
});
