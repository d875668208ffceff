//! Archive storage in S3-compatible object storage (AWS S3, MinIO, Cloudflare R2, …).
//!
//! [`S3Blobs`] implements `ap_market::blobs::BlobStore` on [`object_store`]: archives are
//! keyed `<prefix>/ab/abcdef….zip` by their SHA-256, so storing is idempotent and every
//! instance finds what any instance stored. An upload is staged on local disk first (hashed
//! and capped on the way in, as for the local store), then sent in one `PUT` or, above
//! [`MULTIPART_ABOVE`], as a multipart upload that is only visible once complete and is
//! aborted on any failure. The bytes sent are hashed again on the way out; an archive that
//! changed after staging is refused. Reads stream: a download holds one chunk in memory.
//!
//! `BlobStore` methods block (the service calls them on the blocking pool), so the store
//! drives its HTTP client on a small runtime of its own and waits for it; nothing here
//! ties up an actix worker.

#[cfg(feature = "test-support")]
pub mod testing;

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ap_domain::content::is_sha256_hex;
use ap_market::blobs::{Blob, BlobStore, Staged};
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{ClientOptions, MultipartUpload, ObjectStoreExt, PutPayload};
use sha2::{Digest, Sha256};

/// Archives larger than this go up as multipart uploads.
pub const MULTIPART_ABOVE: u64 = 8 * 1024 * 1024;
/// Size of each part (S3's smallest allowed part is 5 MiB).
const PART_BYTES: usize = 5 * 1024 * 1024;
/// Parts in flight at once during a multipart upload.
const PARTS_AT_ONCE: usize = 4;

/// Where the archives go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Settings {
    /// Bucket name.
    pub bucket: String,
    /// Key prefix inside the bucket (`""` for the bucket's root).
    pub prefix: String,
    /// Endpoint of an S3-compatible service (MinIO, R2, …); AWS when `None`.
    pub endpoint: Option<String>,
    /// Region (else `AWS_REGION`, else `us-east-1`).
    pub region: Option<String>,
    /// Local folder where uploads are staged before they are sent.
    pub staging_dir: PathBuf,
}

/// Why the store could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    /// The settings or credentials were refused by the client.
    #[error("object storage settings: {0}")]
    Settings(#[from] object_store::Error),
    /// The store's I/O runtime could not start.
    #[error("object storage runtime: {0}")]
    Runtime(#[from] io::Error),
}

/// Archives in an S3-compatible bucket. Credentials come from the standard `AWS_*`
/// environment variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`, …) or the instance's role.
pub struct S3Blobs {
    store: AmazonS3,
    reader: AmazonS3,
    bucket: String,
    prefix: String,
    staging_dir: PathBuf,
    io: Arc<Io>,
}

impl fmt::Debug for S3Blobs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Blobs")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// The runtime that drives the HTTP client, shut down without waiting when the last
/// user (the store or a reader it handed out) goes.
struct Io {
    handle: tokio::runtime::Handle,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Io {
    fn start() -> io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("ap-s3-io")
            .enable_all()
            .build()?;
        Ok(Io { handle: runtime.handle().clone(), runtime: Some(runtime) })
    }

    /// Runs `work` to completion on the store's runtime, blocking this (non-async) thread.
    fn wait<F: Future>(&self, work: F) -> F::Output {
        self.handle.block_on(work)
    }
}

impl Drop for Io {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl S3Blobs {
    /// A store over `settings.bucket`; nothing is contacted until [`S3Blobs::probe`] or
    /// the first use.
    pub fn new(settings: S3Settings) -> Result<Self, S3Error> {
        let plain_http = settings.endpoint.as_deref().is_some_and(|e| e.starts_with("http://"));
        let client = ClientOptions::new()
            .with_allow_http(plain_http)
            .with_connect_timeout(Duration::from_secs(5));
        let build = |client: ClientOptions| {
            let mut builder = AmazonS3Builder::from_env()
                .with_bucket_name(&settings.bucket)
                .with_client_options(client);
            if let Some(region) = &settings.region {
                builder = builder.with_region(region);
            }
            if let Some(endpoint) = &settings.endpoint {
                builder = builder.with_endpoint(endpoint);
            }
            builder.build()
        };
        // Requests are bounded as a whole, but for downloads: their bodies arrive at the
        // pace of the client they stream to, so only their connection is bounded.
        let store = build(client.clone().with_timeout(Duration::from_secs(120)))?;
        let reader = build(client.with_timeout_disabled())?;
        Ok(S3Blobs {
            store,
            reader,
            bucket: settings.bucket,
            prefix: settings.prefix.trim_matches('/').to_owned(),
            staging_dir: settings.staging_dir,
            io: Arc::new(Io::start()?),
        })
    }

    /// Checks that the bucket answers with these credentials (a `HEAD` of a key that
    /// need not exist), so that a server with a wrong setting refuses to start.
    pub fn probe(&self) -> io::Result<()> {
        let location = self.under("probe");
        self.io.wait(async {
            match self.store.head(&location).await {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(io::Error::other(e)),
            }
        })
    }

    fn under(&self, key: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(key)
        } else {
            ObjectPath::from(format!("{}/{key}", self.prefix))
        }
    }

    /// Key of the archive with this SHA-256; `None` unless it is 64 lowercase hex digits.
    fn location(&self, sha256: &str) -> Option<ObjectPath> {
        is_sha256_hex(sha256).then(|| self.under(&format!("{}/{sha256}.zip", &sha256[..2])))
    }

    /// Sends a large staged archive in parts, aborting the upload (so nothing becomes
    /// visible, and no parts are left behind) when reading, hashing, sending or
    /// completing fails.
    async fn put_in_parts(&self, location: &ObjectPath, staged: &Staged) -> io::Result<()> {
        let mut upload = self.store.put_multipart(location).await?;
        let sent = async {
            send_parts(upload.as_mut(), staged).await?;
            upload.complete().await?;
            io::Result::Ok(())
        }
        .await;
        if sent.is_err()
            && let Err(abort) = upload.abort().await
        {
            tracing::warn!(error = %abort, "aborting a failed multipart upload");
        }
        sent
    }
}

/// Reads the staged file into `upload` part by part (at most [`PARTS_AT_ONCE`] in
/// flight), checking that what was read is what was staged before the caller completes.
async fn send_parts(upload: &mut dyn MultipartUpload, staged: &Staged) -> io::Result<()> {
    let mut file = std::fs::File::open(staged.path())?;
    let (mut hasher, mut size) = (Sha256::new(), 0u64);
    let mut in_flight = VecDeque::new();
    loop {
        let mut part = Vec::with_capacity(PART_BYTES);
        (&mut file).take(PART_BYTES as u64).read_to_end(&mut part)?;
        if part.is_empty() {
            break;
        }
        hasher.update(&part);
        size += part.len() as u64;
        if in_flight.len() == PARTS_AT_ONCE
            && let Some(oldest) = in_flight.pop_front()
        {
            finished(oldest).await?;
        }
        // Spawned on the store's runtime (whose context `Io::wait` enters), so parts go
        // up side by side while the next is read.
        in_flight.push_back(tokio::spawn(upload.put_part(PutPayload::from(part))));
    }
    for part in in_flight {
        finished(part).await?;
    }
    check_staged(staged, size, hasher)
}

/// The outcome of one part's upload.
async fn finished(part: tokio::task::JoinHandle<object_store::Result<()>>) -> io::Result<()> {
    part.await.map_err(io::Error::other)?.map_err(io::Error::from)
}

fn check_staged(staged: &Staged, size: u64, hasher: Sha256) -> io::Result<()> {
    if size == staged.size() && hex::encode(hasher.finalize()) == staged.sha256() {
        Ok(())
    } else {
        Err(io::Error::other("the staged archive changed before it was stored"))
    }
}

impl BlobStore for S3Blobs {
    fn staging_dir(&self) -> PathBuf {
        self.staging_dir.clone()
    }

    fn put(&self, staged: Staged) -> io::Result<String> {
        let location =
            self.location(staged.sha256()).ok_or_else(|| io::Error::other("not a SHA-256"))?;
        self.io.wait(async {
            match self.store.head(&location).await {
                Ok(_) => return Ok(()),
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(io::Error::from(e)),
            }
            if staged.size() > MULTIPART_ABOVE {
                return self.put_in_parts(&location, &staged).await;
            }
            let bytes = staged.read()?;
            let mut hasher = Sha256::new();
            hasher.update(&bytes);
            check_staged(&staged, bytes.len() as u64, hasher)?;
            self.store.put(&location, PutPayload::from(bytes)).await?;
            Ok(())
        })?;
        Ok(staged.sha256().to_owned())
    }

    fn get(&self, sha256: &str) -> io::Result<Option<Vec<u8>>> {
        let Some(location) = self.location(sha256) else { return Ok(None) };
        self.io.wait(async {
            match self.store.get(&location).await {
                Ok(found) => Ok(Some(found.bytes().await?.to_vec())),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
    }

    fn open(&self, sha256: &str, head: usize) -> io::Result<Option<Blob>> {
        let Some(location) = self.location(sha256) else { return Ok(None) };
        self.io.wait(async {
            let found = match self.reader.get(&location).await {
                Ok(found) => found,
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(e.into()),
            };
            let len = found.meta.size;
            let mut stream = found.into_stream();
            let mut first = Vec::with_capacity(head.min(len as usize));
            let mut pending = Bytes::new();
            while first.len() < head {
                let Some(chunk) = stream.next().await else { break };
                let chunk = chunk?;
                let take = (head - first.len()).min(chunk.len());
                first.extend_from_slice(&chunk[..take]);
                if take < chunk.len() {
                    pending = chunk.slice(take..);
                }
            }
            let rest: Option<Box<dyn Read + Send>> = if (first.len() as u64) < len {
                Some(Box::new(Rest { io: Arc::clone(&self.io), stream, pending }))
            } else {
                None
            };
            Ok(Some(Blob { len, head: first, rest }))
        })
    }
}

/// The rest of an archive being served, read from the response body chunk by chunk.
struct Rest {
    io: Arc<Io>,
    stream: BoxStream<'static, object_store::Result<Bytes>>,
    pending: Bytes,
}

impl Read for Rest {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        while self.pending.is_empty() {
            match self.io.wait(self.stream.next()) {
                Some(Ok(chunk)) => self.pending = chunk,
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(0),
            }
        }
        let n = buffer.len().min(self.pending.len());
        buffer[..n].copy_from_slice(&self.pending[..n]);
        self.pending = self.pending.slice(n..);
        Ok(n)
    }
}
