//! Archive storage: content-addressed by SHA-256, written atomically.
//!
//! Uploads are first streamed into a [`Staging`] file (hashing and counting as they
//! arrive, refusing anything over the cap), then moved into the store under their hash.
//! [`BlobStore`] is the seam between backends: the default [`LocalBlobs`] keeps files
//! under `<data dir>/archives/ab/abcdef….zip` and stages them in
//! `<data dir>/archives/tmp`, on the same file system, so that storing is a rename;
//! `ap-s3` uploads the staged file to S3-compatible object storage. Every backend passes
//! the same [`conformance`] suite. The methods block (callers run them on the blocking
//! pool), so a backend is free to do its own I/O however it must.

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

    /// The staged file, for a backend that reads it in parts (and must check what it
    /// read against [`Staged::sha256`] and [`Staged::size`]).
    pub fn path(&self) -> &Path {
        self.file.path()
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

/// What every [`BlobStore`] owes, run against each backend (`LocalBlobs` here, the S3
/// store in `ap-s3`). Each check calls the store on the blocking pool, as the service does.
#[cfg(any(test, feature = "test-support"))]
pub mod conformance {
    use std::io::Read;
    use std::sync::Arc;

    use super::{BlobStore, Staged, Staging, sha256_hex};

    /// Every check; `large` is the size of the archive that must stream (for S3, above
    /// the multipart threshold).
    pub async fn all(blobs: Arc<dyn BlobStore>, large: usize) {
        stores_by_hash(&blobs).await;
        streams_large_archives(&blobs, large).await;
        interrupted_uploads_leave_nothing(&blobs).await;
    }

    async fn blocking<T: Send + 'static>(
        blobs: &Arc<dyn BlobStore>,
        f: impl FnOnce(&dyn BlobStore) -> T + Send + 'static,
    ) -> T {
        let blobs = Arc::clone(blobs);
        tokio::task::spawn_blocking(move || f(blobs.as_ref())).await.expect("blob task")
    }

    /// Stages `bytes` as an upload would, in 64 KiB chunks.
    async fn stage(blobs: &Arc<dyn BlobStore>, bytes: &[u8]) -> Staged {
        let mut staging = Staging::new(&blobs.staging_dir(), 1 << 30).await.expect("staging");
        for chunk in bytes.chunks(64 * 1024) {
            staging.write(chunk).await.expect("write");
        }
        staging.finish().await.expect("finish")
    }

    /// Repeatable bytes that do not compress (an xorshift stream).
    fn noise(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    fn staging_is_empty(blobs: &dyn BlobStore) -> bool {
        std::fs::read_dir(blobs.staging_dir()).map(|dir| dir.count() == 0).unwrap_or(true)
    }

    /// Put answers the hash and is idempotent; get finds it; a missing object or a key
    /// that is not a hash is `None`; a small archive opens whole.
    pub async fn stores_by_hash(blobs: &Arc<dyn BlobStore>) {
        let staged = stage(blobs, b"zip bytes").await;
        assert_eq!(staged.size(), 9);
        let sha = blocking(blobs, move |b| b.put(staged)).await.expect("put");
        assert_eq!(sha, sha256_hex(b"zip bytes"));
        let again = stage(blobs, b"zip bytes").await;
        assert_eq!(blocking(blobs, move |b| b.put(again)).await.expect("put again"), sha);
        let key = sha.clone();
        let got = blocking(blobs, move |b| b.get(&key)).await.expect("get");
        assert_eq!(got.as_deref(), Some(&b"zip bytes"[..]));
        let missing = blocking(blobs, |b| b.get(&"0".repeat(64))).await.expect("get missing");
        assert_eq!(missing, None);
        let hostile = blocking(blobs, |b| b.get("../../etc/passwd")).await.expect("get hostile");
        assert_eq!(hostile, None);
        let key = sha.clone();
        let whole = blocking(blobs, move |b| b.open(&key, 64)).await.expect("open");
        let whole = whole.expect("present");
        assert_eq!(
            (whole.len, whole.head.as_slice(), whole.rest.is_none()),
            (9, &b"zip bytes"[..], true)
        );
        let (head, rest) = blocking(blobs, move |b| {
            let split = b.open(&sha, 4)?.expect("present");
            let mut rest = Vec::new();
            split.rest.expect("rest").read_to_end(&mut rest)?;
            Ok::<_, std::io::Error>((split.head, rest))
        })
        .await
        .expect("open");
        assert_eq!((head.as_slice(), rest.as_slice()), (&b"zip "[..], &b"bytes"[..]));
        let absent = blocking(blobs, |b| b.open(&"0".repeat(64), 4)).await.expect("open missing");
        assert!(absent.is_none());
        assert!(blocking(blobs, staging_is_empty).await, "nothing is left in staging");
    }

    /// A large archive is stored whole and served as a head plus a streamed rest, byte
    /// for byte.
    pub async fn streams_large_archives(blobs: &Arc<dyn BlobStore>, large: usize) {
        let bytes = noise(large, 7);
        let staged = stage(blobs, &bytes).await;
        let sha = blocking(blobs, move |b| b.put(staged)).await.expect("put large");
        assert_eq!(sha, sha256_hex(&bytes));
        let served = blocking(blobs, move |b| {
            let blob = b.open(&sha, 64 * 1024)?.expect("present");
            assert_eq!(blob.len, large as u64);
            let mut all = blob.head;
            let mut rest = blob.rest.expect("a large archive streams");
            let mut chunk = vec![0; 256 * 1024];
            loop {
                let n = rest.read(&mut chunk)?;
                if n == 0 {
                    break;
                }
                all.extend_from_slice(&chunk[..n]);
            }
            Ok::<_, std::io::Error>(all)
        })
        .await
        .expect("stream");
        assert!(served == bytes, "the streamed archive is the stored one");
    }

    /// An upload that stops part-way (the client went away) stores nothing and leaves
    /// nothing in staging.
    pub async fn interrupted_uploads_leave_nothing(blobs: &Arc<dyn BlobStore>) {
        let bytes = noise(300 * 1024, 11);
        let mut staging = Staging::new(&blobs.staging_dir(), 1 << 30).await.expect("staging");
        staging.write(&bytes[..100 * 1024]).await.expect("write");
        drop(staging);
        let sha = sha256_hex(&bytes);
        assert_eq!(blocking(blobs, move |b| b.get(&sha)).await.expect("get"), None);
        assert!(blocking(blobs, staging_is_empty).await, "nothing is left in staging");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_local_store_keeps_the_blob_store_contract() {
        let dir = tempfile::tempdir().expect("tempdir");
        conformance::all(std::sync::Arc::new(LocalBlobs::new(dir.path())), 3 << 20).await;
    }

    #[tokio::test]
    async fn staging_refuses_more_than_the_cap() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut staging = Staging::new(dir.path(), 8).await.expect("staging");
        staging.write(b"12345678").await.expect("at the cap");
        assert!(matches!(staging.write(b"9").await, Err(StagingError::TooLarge(8))));
    }
}
