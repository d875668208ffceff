//! The content hash of an installed package, shared by the server and every client
//! (CONTRACT §2.4; docs/API.md, Content hash): SHA-256 over every regular file except OS and bytecode litter, files
//! ordered by their path components, feeding each file's UTF-8 relative path (`/`
//! separators) immediately followed by its bytes; rendered `sha256:<hex>`.

use sha2::{Digest, Sha256};

/// Whether a relative path is left out of the hash: anything in or named `.DS_Store`,
/// `Thumbs.db` or `__pycache__`, and files whose extension is `.pyc` or `.pyo` (as Python's
/// `Path.suffix` reads it: a file named just `.pyc` has none).
pub fn is_ignored(path: &str) -> bool {
    let litter = |part: &str| part == ".DS_Store" || part == "Thumbs.db" || part == "__pycache__";
    let name = path.rsplit('/').next().unwrap_or(path);
    let bytecode = [".pyc", ".pyo"].iter().any(|ext| name.len() > ext.len() && name.ends_with(ext));
    bytecode || path.split('/').any(litter)
}

/// Whether `text` is a SHA-256 digest as this server writes it: 64 lowercase hex digits.
pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Whether `text` is a content hash: `sha256:` and 64 lowercase hex digits.
pub fn is_content_hash(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(is_sha256_hex)
}

/// The content hash of a set of files given as `(relative path, bytes)`.
pub fn content_hash<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut files: Vec<(Vec<&str>, &str, &[u8])> = files
        .into_iter()
        .filter(|(path, _)| !is_ignored(path))
        .map(|(path, bytes)| (path.split('/').collect(), path, bytes))
        .collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut hasher = Sha256::new();
    for (_, path, bytes) in files {
        hasher.update(path.as_bytes());
        hasher.update(bytes);
    }
    format!("sha256:{}", hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_shapes() {
        let hex = "0123456789abcdef".repeat(4);
        assert!(is_sha256_hex(&hex));
        assert!(is_content_hash(&format!("sha256:{hex}")));
        assert!(!is_sha256_hex(&hex.to_uppercase()));
        assert!(!is_sha256_hex(&hex[1..]));
        assert!(!is_content_hash(&hex));
        assert!(!is_content_hash(&format!("md5:{hex}")));
    }

    #[test]
    fn order_is_by_components_and_litter_is_skipped() {
        // Component order puts "a/b" before "a-b" (byte order would not: '-' < '/').
        let files = [("a-b", &b"2"[..]), ("a/b", &b"1"[..]), (".DS_Store", &b"x"[..])];
        let mut expected = Sha256::new();
        expected.update(b"a/b1a-b2");
        assert_eq!(content_hash(files), format!("sha256:{}", hex::encode(expected.finalize())));
        assert_eq!(
            content_hash([("x/__pycache__/m.pyc", &b"junk"[..]), ("SKILL.md", &b"hi"[..])]),
            content_hash([("SKILL.md", &b"hi"[..])])
        );
        assert!(is_ignored("a/b.pyo") && is_ignored("Thumbs.db/x"));
        assert!(!is_ignored(".pyc") && !is_ignored("lib.pyc/data.txt"), "suffixes of files only");
    }
}
