//! Downloads (docs/API.md, Downloads and Installations): who may fetch which version, signed expiring links to it,
//! and opening the archive behind a valid link.
//!
//! Free live listings: anyone. Paid: the owner, or a buyer with a completed purchase
//! (buyers keep access after the listing is unpublished). Only live versions (scanned
//! `pass` or `warn`) are ever linked, and never a withdrawn one (quarantined by an
//! administrator, or blocked by a later scan). The link's signature is the capability
//! (see [`crate::signing`]); serving its file costs one primary-key read, which stops
//! links issued before a withdrawal.

use std::sync::Arc;
use std::time::Duration;

use ap_domain::clock::Clock;
use ap_domain::listing::ListingType;
use ap_domain::version::Version;
use ap_domain::wire::DownloadLink;
use ap_domain::{Code, ErrorCode, UserId};
use ap_store::{Db, StoreError, UnitError, catalog, moderation, usage};

use crate::blobs::{Blob, BlobStore};
use crate::cache::CatalogCache;
use crate::counters::{ListingCounts, Visitor};
use crate::signing::{FileLink, LinkError, UrlSigner};

/// Why a download was refused.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// No such listing visible to the caller.
    #[error("Skill not found")]
    NotFound,
    /// A paid listing asked for without credentials.
    #[error("Sign in to download this listing")]
    SignInRequired,
    /// A paid listing asked for by someone who has not bought it.
    #[error("This listing is paid; buy it to download it")]
    PurchaseRequired,
    /// No live version (or not the one asked for).
    #[error("No version of this listing is available for download")]
    NoVersion,
    /// The version, or the whole listing, was withdrawn by the marketplace.
    #[error("The marketplace withdrew this version after a security review; do not use it")]
    Withdrawn,
    /// A link whose signature does not match.
    #[error("This download link is not valid; request a new one")]
    LinkInvalid,
    /// A link past its expiry.
    #[error("This download link has expired; request a new one")]
    LinkExpired,
    /// The archive behind a valid link is gone.
    #[error("The archive is not available")]
    ArchiveMissing,
    /// A live version without an archive, or an expiry out of range.
    #[error("inconsistent download data: {0}")]
    Inconsistent(String),
    /// The archive store failed.
    #[error("archive storage: {0}")]
    Archive(#[from] std::io::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UnitError for DownloadError {
    fn store_error(&self) -> Option<&StoreError> {
        match self {
            DownloadError::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl ErrorCode for DownloadError {
    fn code(&self) -> Code {
        match self {
            DownloadError::NotFound | DownloadError::NoVersion => Code::SkillNotFound,
            DownloadError::SignInRequired => Code::Unauthorized,
            DownloadError::PurchaseRequired => Code::PurchaseRequired,
            DownloadError::Withdrawn => Code::VersionWithdrawn,
            DownloadError::LinkInvalid => Code::LinkInvalid,
            DownloadError::LinkExpired => Code::LinkExpired,
            DownloadError::ArchiveMissing => Code::NotFound,
            DownloadError::Inconsistent(_) | DownloadError::Archive(_) => Code::Internal,
            DownloadError::Store(e) => e.code(),
        }
    }

    fn public_message(&self) -> String {
        match self {
            DownloadError::Store(e) => e.public_message(),
            other => other.to_string(),
        }
    }
}

/// What the database says about a download request.
struct Granted {
    listing_id: String,
    slug: String,
    version_id: String,
    version: String,
    sha256: String,
    content_hash: Option<String>,
    license_code: Option<String>,
}

/// Download access, link issuing and the archives behind links.
#[derive(Debug, Clone)]
pub struct Downloads {
    db: Db,
    blobs: Arc<dyn BlobStore>,
    signer: UrlSigner,
    clock: Arc<dyn Clock>,
    counts: Arc<ListingCounts>,
    cache: Arc<CatalogCache>,
    public_url: String,
    link_ttl: Duration,
}

/// Where signed links point and how long they work.
#[derive(Debug, Clone)]
pub struct LinkSettings {
    /// The server's public base URL.
    pub public_url: String,
    /// Lifetime of a link.
    pub ttl: Duration,
}

/// Archives up to this size are read in one go by [`Downloads::open`]; longer ones are
/// handed back with a reader for the rest.
pub const HEAD_BYTES: usize = 1024 * 1024;

impl Downloads {
    /// Downloads over `db` and `blobs`, signing links with `signer` as `links` say,
    /// counting downloads in `counts`, remembering briefly in `cache` which versions may
    /// be served.
    pub fn new(
        db: Db,
        blobs: Arc<dyn BlobStore>,
        signer: UrlSigner,
        clock: Arc<dyn Clock>,
        counts: Arc<ListingCounts>,
        cache: Arc<CatalogCache>,
        links: LinkSettings,
    ) -> Self {
        let LinkSettings { public_url, ttl: link_ttl } = links;
        Self { db, blobs, signer, clock, counts, cache, public_url, link_ttl }
    }

    /// `GET /v1/skills/{slug}/download[?version=]`: a signed link to the live (or the
    /// asked-for live) version, if `caller` may have it. Counts a download.
    pub async fn link(
        &self,
        slug: String,
        kind: Option<ListingType>,
        requested: Option<Version>,
        caller: Option<UserId>,
        visitor: &Visitor,
    ) -> Result<DownloadLink, DownloadError> {
        let granted = self
            .db
            .run(move |conn| {
                let Some((card, _)) = catalog::listing_by_slug(conn, &slug, kind)? else {
                    return Err(DownloadError::NotFound);
                };
                let is_owner = caller.as_ref() == Some(&card.owner_id);
                let purchase = match &caller {
                    Some(user) if !is_owner => {
                        usage::purchase_access(conn, user.as_str(), card.id.as_str())?
                    }
                    _ => None,
                };
                if !(card.is_live() || is_owner || purchase.is_some()) {
                    return Err(DownloadError::NotFound);
                }
                if card.quarantined_at.is_some() {
                    return Err(DownloadError::Withdrawn);
                }
                if card.price_cents > 0 && !is_owner && purchase.is_none() {
                    return Err(match caller {
                        None => DownloadError::SignInRequired,
                        Some(_) => DownloadError::PurchaseRequired,
                    });
                }
                let versions = catalog::live_versions(conn, card.id.as_str())?;
                let chosen = match requested {
                    Some(wanted) => versions.into_iter().find(|v| v.version == wanted.to_string()),
                    // The version the listing serves; when it serves none (its owner's
                    // account is suspended or frozen), a buyer gets the newest one.
                    None => match &card.live_version_id {
                        Some(live) => versions.into_iter().find(|v| v.id == *live),
                        None => versions.into_iter().next(),
                    },
                };
                let Some(version) = chosen else {
                    let withdrawn = match requested {
                        Some(wanted) => {
                            let wanted = wanted.to_string();
                            moderation::withdrawn_versions(conn, &[card.id.as_str()])?
                                .iter()
                                .any(|(_, v)| *v == wanted)
                        }
                        None => false,
                    };
                    return Err(if withdrawn {
                        DownloadError::Withdrawn
                    } else {
                        DownloadError::NoVersion
                    });
                };
                let sha256 = version.archive_sha256.clone().ok_or_else(|| {
                    DownloadError::Inconsistent("live version without archive".to_owned())
                })?;
                Ok(Granted {
                    listing_id: card.id.into_string(),
                    slug: card.slug,
                    version_id: version.id.into_string(),
                    version: version.version,
                    sha256,
                    content_hash: version.content_hash,
                    license_code: purchase.flatten(),
                })
            })
            .await?;
        self.counts.download(&granted.listing_id, visitor);
        let expires = self.clock.now().timestamp() + self.link_ttl.as_secs() as i64;
        let expires_at = chrono::DateTime::from_timestamp(expires, 0)
            .ok_or_else(|| DownloadError::Inconsistent("link expiry out of range".to_owned()))?;
        let file_name = format!("{}-{}.zip", granted.slug, granted.version);
        let url = self.signer.url(
            &self.public_url,
            &FileLink {
                version_id: &granted.version_id,
                file_name: &file_name,
                sha256: &granted.sha256,
                expires,
            },
        );
        Ok(DownloadLink {
            url,
            slug: granted.slug,
            version: granted.version,
            content_hash: granted.content_hash,
            archive_sha256: granted.sha256,
            license_code: granted.license_code,
            expires_at,
        })
    }

    /// Whether a signed link is valid now (checked without the database).
    pub fn check(&self, link: &FileLink<'_>, signature: &str) -> Result<(), DownloadError> {
        self.signer.verify(link, signature, self.clock.now()).map_err(|e| match e {
            LinkError::Invalid => DownloadError::LinkInvalid,
            LinkError::Expired => DownloadError::LinkExpired,
        })
    }

    /// The archive behind a valid signed link (`GET /v1/files/…`): the first
    /// [`HEAD_BYTES`] read, a reader for the rest of larger ones. A version withdrawn
    /// since the link was issued is refused (a primary-key read, remembered for at most
    /// [`crate::cache::SERVABLE_TTL`]: a withdrawal here is honoured at once, one on
    /// another instance within that).
    pub async fn open(&self, link: &FileLink<'_>, signature: &str) -> Result<Blob, DownloadError> {
        self.check(link, signature)?;
        let version_id = link.version_id.to_owned();
        let servable = self.cache.servable(link.version_id, async move {
            self.db.run(move |conn| moderation::servable(conn, &version_id)).await
        });
        if !servable.await? {
            return Err(DownloadError::Withdrawn);
        }
        let blobs = Arc::clone(&self.blobs);
        let key = link.sha256.to_owned();
        tokio::task::spawn_blocking(move || blobs.open(&key, HEAD_BYTES))
            .await
            .map_err(std::io::Error::other)??
            .ok_or(DownloadError::ArchiveMissing)
    }
}
