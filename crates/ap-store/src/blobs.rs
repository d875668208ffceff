//! Archive storage: content-addressed by SHA-256, written atomically.
//!
//! [`BlobStore`] is the seam for other backends (S3-compatible object storage); the
//! default [`LocalBlobs`] keeps files under `<data dir>/archives/ab/abcdef….zip`.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::StoreError;

/// Where archives live.
pub trait BlobStore: Send + Sync + std::fmt::Debug {
    /// Stores `bytes`; answers their lowercase hex SHA-256 (the key).
    fn put(&self, bytes: &[u8]) -> Result<String, StoreError>;
    /// Reads the archive with this SHA-256, `None` when absent.
    fn get(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError>;
}

/// Archives as files in a local folder.
#[derive(Debug, Clone)]
pub struct LocalBlobs {
    root: PathBuf,
}

impl LocalBlobs {
    /// Archives under `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// Path of the archive with this SHA-256; `None` unless it is 64 hex digits.
    fn path_of(&self, sha256: &str) -> Option<PathBuf> {
        let valid = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
        valid.then(|| self.root.join(&sha256[..2]).join(format!("{sha256}.zip")))
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl BlobStore for LocalBlobs {
    fn put(&self, bytes: &[u8]) -> Result<String, StoreError> {
        let sha = sha256_hex(bytes);
        let path = self.path_of(&sha).ok_or(StoreError::NotFound)?;
        if path.exists() {
            return Ok(sha);
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        tmp.write_all(bytes)?;
        tmp.as_file().sync_all()?;
        tmp.persist(&path).map_err(|e| StoreError::Io(e.error))?;
        Ok(sha)
    }

    fn get(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(path) = self.path_of(sha256) else { return Ok(None) };
        match std::fs::read(path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_then_get_by_hash() {
        let dir = tempfile::tempdir().expect("tempdir");
        let blobs = LocalBlobs::new(dir.path());
        let sha = blobs.put(b"zip bytes").expect("put");
        assert_eq!(sha, sha256_hex(b"zip bytes"));
        assert_eq!(blobs.put(b"zip bytes").expect("put again"), sha);
        assert_eq!(blobs.get(&sha).expect("get").as_deref(), Some(&b"zip bytes"[..]));
        assert_eq!(blobs.get(&"0".repeat(64)).expect("get"), None);
        assert_eq!(blobs.get("../../etc/passwd").expect("get"), None);
    }
}
