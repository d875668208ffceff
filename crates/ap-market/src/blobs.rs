//! Archive storage: content-addressed by SHA-256, written atomically.
//!
//! Uploads are first streamed into a [`Staging`] file (hashing and counting as they
//! arrive, refusing anything over the cap), then moved into the store under their hash.
//! [`BlobStore`] is the seam for other backends (S3-compatible object storage would
//! upload the staged file); the default [`LocalBlobs`] keeps files under
//! `<data dir>/archives/ab/abcdef….zip` and stages them in `<data dir>/archives/tmp`, on
//! the same file system, so that storing is a rename.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use ap_domain::{Code, ErrorCode};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

/// Where archives live.
pub trait BlobStore: Send + Sync + std::fmt::Debug {
    /// Folder for staging files (created on demand).
    fn staging_dir(&self) -> PathBuf;
    /// Moves a staged archive into the store; answers its SHA-256 (the key).
    fn put(&self, staged: Staged) -> io::Result<String>;
    /// Reads the archive with this SHA-256, `None` when absent.
    fn get(&self, sha256: &str) -> io::Result<Option<Vec<u8>>>;
    /// Opens the archive with this SHA-256 for serving: at most `head` bytes read at once,
    /// the rest (of a longer archive) left to a reader. `None` when absent.
    fn open(&self, sha256: &str, head: usize) -> io::Result<Option<Blob>>;
}

/// An archive opened for serving.
pub struct Blob {
    /// Its whole size.
    pub len: u64,
    /// Its first bytes (all of them for a small archive).
    pub head: Vec<u8>,
    /// The rest, when the archive is longer than the head.
    pub rest: Option<Box<dyn Read + Send>>,
}

impl std::fmt::Debug for Blob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blob").field("len", &self.len).field("head", &self.head.len()).finish()
    }
}

/// A complete archive on local disk, not yet in the store (deleted when dropped).
#[derive(Debug)]
pub struct Staged {
    file: tempfile::NamedTempFile,
    sha256: String,
    size: u64,
}

impl Staged {
    /// Stages bytes already in memory (the demo seed).
    pub fn from_bytes(dir: &Path, bytes: &[u8]) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let mut file = tempfile::NamedTempFile::new_in(dir)?;
        file.write_all(bytes)?;
        Ok(Staged { file, sha256: sha256_hex(bytes), size: bytes.len() as u64 })
    }

    /// Lowercase hex SHA-256 of the bytes.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The bytes (bounded by the cap the staging enforced).
    pub fn read(&self) -> io::Result<Vec<u8>> {
        std::fs::read(self.file.path())
    }
}

/// Why staging stopped.
#[derive(Debug, thiserror::Error)]
pub enum StagingError {
    /// More bytes arrived than the cap allows.
    #[error("the archive is larger than {0} bytes")]
    TooLarge(u64),
    /// The disk refused.
    #[error("staging the archive: {0}")]
    Io(#[from] std::io::Error),
}

/// An archive being received: written to a temporary file chunk by chunk, hashed and
/// counted on the way, refused as soon as it passes the cap.
impl ErrorCode for StagingError {
    fn code(&self) -> Code {
        match self {
            StagingError::TooLarge(_) => Code::PayloadTooLarge,
            StagingError::Io(_) => Code::Internal,
        }
    }

    fn public_message(&self) -> String {
        match self {
            StagingError::TooLarge(cap) => {
                format!("The archive is larger than {} MB", cap / (1024 * 1024))
            }
            StagingError::Io(_) => "Internal server error".to_owned(),
        }
    }
}

#[derive(Debug)]
pub struct Staging {
    temp: tempfile::NamedTempFile,
    file: tokio::fs::File,
    hasher: Sha256,
    size: u64,
    cap: u64,
}

impl Staging {
    /// Starts a staging file in `dir` accepting at most `cap` bytes.
    pub async fn new(dir: &Path, cap: u64) -> Result<Self, StagingError> {
        tokio::fs::create_dir_all(dir).await?;
        let dir = dir.to_owned();
        let temp = tokio::task::spawn_blocking(move || tempfile::NamedTempFile::new_in(dir))
            .await
            .map_err(std::io::Error::other)??;
        let file = tokio::fs::OpenOptions::new().write(true).open(temp.path()).await?;
        Ok(Staging { temp, file, hasher: Sha256::new(), size: 0, cap })
    }

    /// Appends a chunk.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), StagingError> {
        self.size += chunk.len() as u64;
        if self.size > self.cap {
            return Err(StagingError::TooLarge(self.cap));
        }
        self.hasher.update(chunk);
        self.file.write_all(chunk).await?;
        Ok(())
    }

    /// Bytes received so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The complete archive.
    pub async fn finish(mut self) -> Result<Staged, StagingError> {
        self.file.flush().await?;
        Ok(Staged { file: self.temp, sha256: hex::encode(self.hasher.finalize()), size: self.size })
    }
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

    /// Path of the archive with this SHA-256; `None` unless it is 64 lowercase hex digits.
    fn path_of(&self, sha256: &str) -> Option<PathBuf> {
        ap_domain::content::is_sha256_hex(sha256)
            .then(|| self.root.join(&sha256[..2]).join(format!("{sha256}.zip")))
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl BlobStore for LocalBlobs {
    fn staging_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    fn put(&self, staged: Staged) -> io::Result<String> {
        let path = self.path_of(&staged.sha256).ok_or_else(|| io::Error::other("not a SHA-256"))?;
        if path.exists() {
            return Ok(staged.sha256);
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        staged.file.as_file().sync_all()?;
        staged.file.persist(&path).map_err(|e| e.error)?;
        Ok(staged.sha256)
    }

    fn get(&self, sha256: &str) -> io::Result<Option<Vec<u8>>> {
        let Some(path) = self.path_of(sha256) else { return Ok(None) };
        match std::fs::read(path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn open(&self, sha256: &str, head: usize) -> io::Result<Option<Blob>> {
        let Some(path) = self.path_of(sha256) else { return Ok(None) };
        let mut file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let len = file.metadata()?.len();
        let mut first = Vec::with_capacity(head.min(len as usize));
        (&mut file).take(head as u64).read_to_end(&mut first)?;
        let rest: Option<Box<dyn Read + Send>> =
            if (first.len() as u64) < len { Some(Box::new(file)) } else { None };
        Ok(Some(Blob { len, head: first, rest }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn staged_archives_are_stored_by_hash() {
        let dir = tempfile::tempdir().expect("tempdir");
        let blobs = LocalBlobs::new(dir.path());
        let mut staging = Staging::new(&blobs.staging_dir(), 16).await.expect("staging");
        staging.write(b"zip ").await.expect("write");
        staging.write(b"bytes").await.expect("write");
        let staged = staging.finish().await.expect("finish");
        assert_eq!(staged.size(), 9);
        let sha = blobs.put(staged).expect("put");
        assert_eq!(sha, sha256_hex(b"zip bytes"));
        let again = Staged::from_bytes(&blobs.staging_dir(), b"zip bytes").expect("stage");
        assert_eq!(blobs.put(again).expect("put again"), sha);
        assert_eq!(blobs.get(&sha).expect("get").as_deref(), Some(&b"zip bytes"[..]));
        assert_eq!(blobs.get(&"0".repeat(64)).expect("get"), None);
        assert_eq!(blobs.get("../../etc/passwd").expect("get"), None);
        let whole = blobs.open(&sha, 64).expect("open").expect("present");
        assert_eq!(
            (whole.len, whole.head.as_slice(), whole.rest.is_none()),
            (9, &b"zip bytes"[..], true)
        );
        let split = blobs.open(&sha, 4).expect("open").expect("present");
        let mut rest = Vec::new();
        split.rest.expect("rest").read_to_end(&mut rest).expect("read");
        assert_eq!((split.head.as_slice(), rest.as_slice()), (&b"zip "[..], &b"bytes"[..]));
        assert!(blobs.open(&"0".repeat(64), 4).expect("open").is_none());
        // Nothing is left behind in staging.
        assert_eq!(std::fs::read_dir(blobs.staging_dir()).expect("dir").count(), 0);
    }

    #[tokio::test]
    async fn staging_refuses_more_than_the_cap() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut staging = Staging::new(dir.path(), 8).await.expect("staging");
        staging.write(b"12345678").await.expect("at the cap");
        assert!(matches!(staging.write(b"9").await, Err(StagingError::TooLarge(8))));
    }
}
