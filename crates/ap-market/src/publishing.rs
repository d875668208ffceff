//! The publishing lifecycle (docs/API.md, Publishing), independent of HTTP: create a listing, ask for
//! a new version, upload and scan an archive, unpublish and republish.
//!
//! The routes call these, and so does the demo seed, so seeded listings go through the
//! same checks and the same scan. Every change runs in one transaction; business checks
//! come before any write, so a refusal leaves nothing behind.

use std::sync::Arc;

use ap_domain::clock::Clock;
use ap_domain::listing::ListingType;
use ap_domain::listing::{SecurityStatus, VersionStatus};
use ap_domain::publishing::{self, ListingChanges, NewListingFields};
use ap_domain::version::Version;
use ap_domain::wire::{ArchiveState, ListingCreated, UploadResult, VersionCreated};
use ap_domain::{Code, ErrorCode, FieldError, FieldErrors, UserId, VersionId};
use ap_scan::{DenyPatterns, PackageKind, Report, Severity};
use ap_store::models::{ListingCard, ListingVersion, NewListing, NewListingVersion};
use ap_store::publish::{self, ListingFieldChanges, ScannedArchive};
use ap_store::scans::{self, CachedScan};
use ap_store::{Db, StoreError, UnitError, catalog, moderation, write_tx};
use chrono::NaiveDateTime;
use serde_json::{Map, Value};

use crate::blobs::{BlobStore, Staged};
use crate::indexer::Indexer;
use crate::scan_queue::ScanQueue;

/// How long an upload's claim on its pending version holds: the scan of the largest
/// allowed archive takes well under a second, so a claim this old belongs to an upload
/// that died, and the next `PATCH` replaces its version.
pub const UPLOAD_CLAIM: chrono::Duration = chrono::Duration::minutes(2);

/// Why a publishing step was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// No such listing of the caller's (or of that type).
    #[error("Skill not found")]
    NotFound,
    /// Another seller's live listing.
    #[error("This listing belongs to another seller")]
    NotOwner,
    /// The listing is unpublished; versions wait for a republish.
    #[error("This listing is unpublished; republish it first")]
    Archived,
    /// Unpublish of an unpublished listing.
    #[error("This listing is already unpublished")]
    AlreadyArchived,
    /// Republish of a listing that is not unpublished.
    #[error("This listing is not unpublished")]
    NotArchived,
    /// The slug belongs to an existing listing.
    #[error("A listing with this slug already exists")]
    SlugTaken,
    /// Publishing needs a display name.
    #[error("Set a display name on your profile before publishing")]
    DisplayNameRequired,
    /// A paid listing needs payouts set up.
    #[error(
        "Paid listings need a seller account with payouts enabled; see POST /v1/sellers/connect"
    )]
    OnboardingRequired,
    /// The listing text failed the scan (with its findings).
    #[error("The listing text failed the security scan")]
    TextRejected(Vec<Value>),
    /// A version is waiting for (or being scanned for) its upload.
    #[error("Version {0} is waiting for its upload")]
    VersionPending(String),
    /// The version is live already, or became live meanwhile.
    #[error("{0}")]
    VersionExists(String),
    /// The request's fields are invalid.
    #[error(transparent)]
    Invalid(#[from] FieldErrors),
    /// The scan could not run.
    #[error("scan failed: {0}")]
    Scan(String),
    /// Too many scans are waiting already.
    #[error("the scan queue is full")]
    Busy,
    /// The archive store failed.
    #[error("archive storage: {0}")]
    Archive(#[from] std::io::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<FieldError> for PublishError {
    fn from(error: FieldError) -> Self {
        PublishError::Invalid(error.into())
    }
}

impl UnitError for PublishError {
    fn store_error(&self) -> Option<&StoreError> {
        match self {
            PublishError::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl ErrorCode for PublishError {
    fn code(&self) -> Code {
        match self {
            PublishError::NotFound => Code::SkillNotFound,
            PublishError::NotOwner => Code::SkillNotOwner,
            PublishError::Archived | PublishError::AlreadyArchived => Code::SkillArchived,
            PublishError::NotArchived => Code::SkillNotArchived,
            PublishError::SlugTaken => Code::SlugTaken,
            PublishError::DisplayNameRequired => Code::DisplayNameRequired,
            PublishError::OnboardingRequired => Code::SellerOnboardingRequired,
            PublishError::TextRejected(_) => Code::ListingTextRejected,
            PublishError::VersionPending(_) => Code::SkillVersionPending,
            PublishError::VersionExists(_) => Code::VersionExists,
            PublishError::Invalid(e) => e.code(),
            PublishError::Scan(_) | PublishError::Archive(_) => Code::Internal,
            PublishError::Busy => Code::ServiceUnavailable,
            PublishError::Store(e) => e.code(),
        }
    }

    fn public_message(&self) -> String {
        match self {
            PublishError::Store(e) => e.public_message(),
            other => other.to_string(),
        }
    }

    fn findings(&self) -> Option<&[Value]> {
        match self {
            PublishError::TextRejected(findings) => Some(findings),
            _ => None,
        }
    }

    fn field_errors(&self) -> Option<&FieldErrors> {
        match self {
            PublishError::Invalid(errors) => Some(errors),
            _ => None,
        }
    }

    fn retry_after(&self) -> Option<u64> {
        matches!(self, PublishError::Busy).then_some(SCAN_RETRY_AFTER_SECS)
    }
}

/// When a scan refused by a full queue may be tried again.
const SCAN_RETRY_AFTER_SECS: u64 = 5;

/// Publishing over a database and an archive store.
#[derive(Debug, Clone)]
pub struct Publisher {
    db: Db,
    blobs: Arc<dyn BlobStore>,
    clock: Arc<dyn Clock>,
    indexer: Arc<Indexer>,
    /// Scans running at once (one per core: each may inflate up to the scan's caps) and
    /// waiting (a bounded line).
    scans: Arc<ScanQueue>,
    /// The operator's patterns, run with the built-in rules.
    deny: Arc<DenyPatterns>,
    /// The scanner's version with those patterns (the scan cache's key).
    scanner_version: Arc<str>,
}

pub(crate) fn package_kind(kind: ListingType) -> PackageKind {
    match kind {
        ListingType::Skill => PackageKind::Skill,
        ListingType::Agent => PackageKind::Agent,
    }
}

fn version_of(row: &ListingVersion) -> Option<Version> {
    Some(Version {
        major: u32::try_from(row.major).ok()?,
        minor: u32::try_from(row.minor).ok()?,
        patch: u32::try_from(row.patch).ok()?,
    })
}

/// A version's parts as stored (each at most `i32::MAX`).
fn stored_parts(version: Version, field: FieldError) -> Result<(i32, i32, i32), PublishError> {
    let part = |p: u32| i32::try_from(p).map_err(|_| PublishError::from(field.clone()));
    Ok((part(version.major)?, part(version.minor)?, part(version.patch)?))
}

/// A version row waiting for its archive.
fn pending_version(
    listing_id: &str,
    version: Version,
    (major, minor, patch): (i32, i32, i32),
    changelog: Option<String>,
    now: NaiveDateTime,
) -> NewListingVersion {
    NewListingVersion {
        id: uuid::Uuid::now_v7().to_string(),
        listing_id: listing_id.to_owned(),
        version: version.to_string(),
        major,
        minor,
        patch,
        status: VersionStatus::Pending.as_str().to_owned(),
        changelog,
        archive_sha256: None,
        content_hash: None,
        size_bytes: None,
        security_status: None,
        security_score: None,
        findings: None,
        layers: None,
        scanned_at: None,
        published_at: None,
        created_at: now,
        upload_started_at: None,
    }
}

/// The refusal of a version whose parts do not fit the database.
fn too_large_version(location: &str) -> FieldError {
    FieldError {
        loc: vec![location.to_owned(), "version".to_owned()],
        msg: "Version parts must be below 2147483648".to_owned(),
        kind: "version_too_large".to_owned(),
    }
}

/// Listing text with a block-worthy finding is refused, with the findings.
fn check_text(fields: &[(&str, &str)]) -> Result<(), PublishError> {
    let findings = ap_scan::scan_text(fields);
    if findings.iter().any(|f| f.severity == Severity::High) {
        return Err(PublishError::TextRejected(to_values(&findings)?));
    }
    Ok(())
}

fn to_values<T: serde::Serialize>(items: &[T]) -> Result<Vec<Value>, StoreError> {
    Ok(items.iter().map(serde_json::to_value).collect::<Result<_, _>>()?)
}

/// The owner's listing by slug (of the route's type), locked until the transaction ends:
/// 404 when absent or another seller's, except 403 `SKILL_NOT_OWNER` for another
/// seller's *live* listing when `reveal_owner` (PATCH; drafts and unpublished listings of
/// others stay 404, as everywhere).
fn owned(
    conn: &mut ap_store::Conn,
    user_id: &str,
    slug: &str,
    kind: Option<ListingType>,
    reveal_owner: bool,
) -> Result<ListingCard, PublishError> {
    publish::lock_listing(conn, slug)?;
    let Some((card, _)) = catalog::listing_by_slug(conn, slug, kind)? else {
        return Err(PublishError::NotFound);
    };
    if card.owner_id != *user_id {
        return Err(if reveal_owner && card.is_live() {
            PublishError::NotOwner
        } else {
            PublishError::NotFound
        });
    }
    Ok(card)
}

/// Which version row an upload fills.
#[derive(Debug, Clone)]
pub struct UploadTarget {
    /// The listing.
    pub listing: ListingCard,
    /// The version the archive becomes.
    pub version: Version,
    /// The pending or blocked row it fills (`None`: a new row).
    pub row: Option<VersionId>,
}

fn query_version_error(msg: String) -> PublishError {
    FieldError::query("version", "version_not_available", msg).into()
}

/// Decides the version of an upload (docs/API.md, Publishing): the requested one, else the pending
/// one, else `1.0.0` for a listing that never went live.
fn upload_target(
    listing: ListingCard,
    versions: &[ListingVersion],
    requested: Option<Version>,
) -> Result<UploadTarget, PublishError> {
    if listing.archived_at.is_some() {
        return Err(PublishError::Archived);
    }
    let live =
        versions.iter().filter(|v| v.status == VersionStatus::Live).filter_map(version_of).max();
    let pending = versions.iter().find(|v| v.status == VersionStatus::Pending);
    let row_of = |wanted: Version| versions.iter().find(|v| version_of(v) == Some(wanted));
    let version = match (requested, pending) {
        (Some(wanted), _) if row_of(wanted).is_some_and(|r| r.status == VersionStatus::Live) => {
            return Err(PublishError::VersionExists(format!(
                "Version {wanted} is already live; versions cannot be replaced"
            )));
        }
        (Some(wanted), Some(p)) if version_of(p) != Some(wanted) => {
            return Err(PublishError::VersionPending(p.version.clone()));
        }
        (Some(wanted), _) => {
            if let Some(current) = live.filter(|current| wanted <= *current) {
                return Err(query_version_error(format!(
                    "Version should be greater than the current version {current}"
                )));
            }
            wanted
        }
        (None, Some(p)) => version_of(p).ok_or_else(|| {
            PublishError::Store(StoreError::Migration(format!("stored version {}", p.version)))
        })?,
        (None, None) => match live {
            None => Version::INITIAL,
            Some(current) => {
                return Err(query_version_error(format!(
                    "Version {current} is live: create the next one with PATCH (bump) or pass ?version="
                )));
            }
        },
    };
    let row = row_of(version).map(|r| r.id.clone());
    Ok(UploadTarget { listing, version, row })
}

impl Publisher {
    /// Publishing over `db`, keeping archives in `blobs`, telling `indexer` after every
    /// change (search index and caches), with time from `clock`.
    pub fn new(
        db: Db,
        blobs: Arc<dyn BlobStore>,
        clock: Arc<dyn Clock>,
        indexer: Arc<Indexer>,
        deny: DenyPatterns,
    ) -> Self {
        let scanner_version = deny.scanner_version().into();
        Self {
            db,
            blobs,
            clock,
            indexer,
            scans: Arc::new(ScanQueue::per_core()),
            deny: Arc::new(deny),
            scanner_version,
        }
    }

    /// The version of the scan rules in force (built-in and the operator's patterns).
    pub fn scanner_version(&self) -> &str {
        &self.scanner_version
    }

    /// The scan-cache row of a verdict of a package of `kind` under the rules in force.
    pub fn cached_scan(
        &self,
        hash: &str,
        kind: PackageKind,
        scan: &ScannedArchive,
        now: NaiveDateTime,
    ) -> CachedScan {
        CachedScan {
            content_hash: hash.to_owned(),
            kind: kind.as_str().to_owned(),
            security_status: scan.security_status.as_str().to_owned(),
            security_score: scan.security_score,
            findings: scan.findings.clone(),
            layers: scan.layers.clone(),
            scanner_version: self.scanner_version.to_string(),
            created_at: now,
        }
    }

    fn now(&self) -> NaiveDateTime {
        self.clock.now().naive_utc()
    }

    /// Scans a staged archive on the blocking pool, at most one scan per core at a time
    /// (others wait their turn in a bounded line; beyond it [`PublishError::Busy`]), so
    /// memory and waiting stay bounded however many uploads arrive.
    pub async fn scan(
        &self,
        staged: Staged,
        kind: PackageKind,
    ) -> Result<(Staged, Report), PublishError> {
        let _permit = self.scans.enter().await.map_err(|_| PublishError::Busy)?;
        let deny = Arc::clone(&self.deny);
        tokio::task::spawn_blocking(move || {
            let bytes = staged.read()?;
            let started = std::time::Instant::now();
            let report = ap_scan::scan_with(&bytes, kind, &ap_scan::Limits::default(), &deny);
            record_scan(&report, started);
            Ok::<_, PublishError>((staged, report))
        })
        .await
        .map_err(|e| PublishError::Scan(format!("task: {e}")))?
    }

    /// Scans a stored archive (a rescan) under the rules in force, waiting for a scan
    /// slot without taking a place in the uploads' line; `None` when the archive is not
    /// stored.
    pub async fn scan_stored(
        &self,
        sha256: String,
        kind: PackageKind,
    ) -> Result<Option<(Report, i64)>, PublishError> {
        let _permit = self.scans.enter_patiently().await.map_err(|_| PublishError::Busy)?;
        let (blobs, deny) = (Arc::clone(&self.blobs), Arc::clone(&self.deny));
        tokio::task::spawn_blocking(move || {
            let Some(bytes) = blobs.get(&sha256)? else { return Ok(None) };
            let started = std::time::Instant::now();
            let report = ap_scan::scan_with(&bytes, kind, &ap_scan::Limits::default(), &deny);
            record_scan(&report, started);
            Ok::<_, PublishError>(Some((report, bytes.len() as i64)))
        })
        .await
        .map_err(|e| PublishError::Scan(format!("task: {e}")))?
    }

    /// The archive store.
    pub fn blobs(&self) -> &Arc<dyn BlobStore> {
        &self.blobs
    }

    /// `POST /v1/skills`: checks in the contract's order, then creates the listing.
    pub async fn create(
        &self,
        user_id: UserId,
        body: Map<String, Value>,
        forced: Option<ListingType>,
    ) -> Result<ListingCreated, PublishError> {
        let slug = publishing::requested_slug(&body).map(str::to_owned);
        let now = self.now();
        let (fields, id) = self
            .db
            .run(move |conn| -> Result<(NewListingFields, String), PublishError> {
                // An existing slug first: the CLI re-publishes by POSTing and switching
                // to PATCH on 409.
                if let Some(slug) = slug
                    && publish::slug_exists(conn, &slug)?
                {
                    return Err(PublishError::SlugTaken);
                }
                if ap_store::users::by_id(conn, user_id.as_str())?.display_name.is_none() {
                    return Err(PublishError::DisplayNameRequired);
                }
                let categories = catalog::category_slugs(conn)?;
                let fields = publishing::parse_new_listing(&body, forced, &|c| {
                    categories.iter().any(|k| k == c)
                })?;
                if fields.price_cents > 0 && !publish::payouts_enabled(conn, user_id.as_str())? {
                    return Err(PublishError::OnboardingRequired);
                }
                check_text(&fields.texts())?;
                let listing = NewListing {
                    id: uuid::Uuid::now_v7().to_string(),
                    slug: fields.slug.as_str().to_owned(),
                    owner_id: user_id.into_string(),
                    listing_type: fields.listing_type.as_str().to_owned(),
                    title: fields.title.clone(),
                    description: fields.description.clone(),
                    long_description: fields.long_description.clone(),
                    category: fields.category.clone(),
                    price_cents: fields.price_cents,
                    currency: "usd".to_owned(),
                    download_count: 0,
                    install_count: 0,
                    view_count: 0,
                    rating_sum: 0,
                    rating_count: 0,
                    created_at: now,
                    updated_at: now,
                };
                match publish::insert_listing(conn, &listing) {
                    Ok(()) => Ok((fields, listing.id)),
                    // A concurrent POST took the slug between the check and the insert.
                    Err(StoreError::Conflict(_)) => Err(PublishError::SlugTaken),
                    Err(e) => Err(e.into()),
                }
            })
            .await?;
        Ok(ListingCreated {
            slug: fields.slug.as_str().to_owned(),
            id,
            status: VersionStatus::Pending.as_str().to_owned(),
            message: format!(
                "Listing created. Upload a package to POST /v1/{}s/{}/upload to publish it.",
                fields.listing_type.as_str(),
                fields.slug
            ),
        })
    }

    /// `PATCH /v1/skills/{slug}`: a new pending version, and listing field changes.
    pub async fn change(
        &self,
        user_id: UserId,
        slug: String,
        body: Map<String, Value>,
        forced: Option<ListingType>,
    ) -> Result<VersionCreated, PublishError> {
        let now = self.now();
        let created = self
            .db
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let card = owned(conn, user_id.as_str(), &slug, forced, true)?;
                    if card.archived_at.is_some() {
                        return Err(PublishError::Archived);
                    }
                    let categories = catalog::category_slugs(conn)?;
                    let changes =
                        publishing::parse_changes(&body, &|c| categories.iter().any(|k| k == c))?;
                    apply_change(conn, user_id.as_str(), card, changes, now)
                })
            })
            .await?;
        self.indexer.after_change().await;
        Ok(created)
    }

    /// Checks that `user_id` may upload to `slug` now, and which version it would be
    /// (before the body is read).
    pub async fn upload_target(
        &self,
        user_id: UserId,
        slug: String,
        forced: Option<ListingType>,
        requested: Option<Version>,
    ) -> Result<UploadTarget, PublishError> {
        let target = self
            .db
            .run(move |conn| {
                let card = owned(conn, user_id.as_str(), &slug, forced, false)?;
                let versions = publish::versions(conn, card.id.as_str())?;
                upload_target(card, &versions, requested)
            })
            .await?;
        stored_parts(target.version, too_large_version("query"))?;
        Ok(target)
    }

    /// `POST /v1/skills/{slug}/upload`: claims the version, scans the staged archive,
    /// stores it, and records the version (live on `pass`/`warn`, blocked on `block`).
    /// An upload that fails after its claim gives the claim back.
    pub async fn upload(
        &self,
        user_id: UserId,
        target: UploadTarget,
        staged: Staged,
    ) -> Result<UploadResult, PublishError> {
        let version_id = self.claim(user_id.clone(), &target).await?;
        let outcome = self.scan_and_record(user_id, target, staged, version_id.clone()).await;
        if outcome.is_err() {
            let released =
                self.db.run(move |conn| publish::release_upload(conn, version_id.as_str()));
            if let Err(error) = released.await {
                tracing::warn!(%error, "an upload's claim was not given back; it expires");
            }
        }
        outcome
    }

    /// Claims the version an upload fills (creating its pending row on a first upload),
    /// so a `PATCH` during the scan answers 409 instead of replacing it.
    async fn claim(
        &self,
        user_id: UserId,
        target: &UploadTarget,
    ) -> Result<VersionId, PublishError> {
        let (slug, version) = (target.listing.slug.clone(), target.version);
        let parts = stored_parts(version, too_large_version("query"))?;
        let now = self.now();
        self.db
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let card = owned(conn, user_id.as_str(), &slug, None, false)?;
                    let versions = publish::versions(conn, card.id.as_str())?;
                    let fresh = upload_target(card, &versions, Some(version))?;
                    let row = match fresh.row {
                        Some(row) => row,
                        None => {
                            let row = pending_version(
                                fresh.listing.id.as_str(),
                                version,
                                parts,
                                None,
                                now,
                            );
                            publish::insert_version(conn, &row)?;
                            VersionId::from(row.id)
                        }
                    };
                    publish::claim_upload(conn, row.as_str(), now)?;
                    Ok(row)
                })
            })
            .await
    }

    async fn scan_and_record(
        &self,
        user_id: UserId,
        target: UploadTarget,
        staged: Staged,
        version_id: VersionId,
    ) -> Result<UploadResult, PublishError> {
        let kind = package_kind(target.listing.listing_type);
        let (staged, report) = self.scan(staged, kind).await?;
        let (scanned, findings, layers) =
            scanned_archive(&report, staged.sha256().to_owned(), staged.size() as i64)?;
        // A live version's archive is in the store before the version is.
        if scanned.is_live() {
            let blobs = Arc::clone(&self.blobs);
            tokio::task::spawn_blocking(move || blobs.put(staged))
                .await
                .map_err(|e| PublishError::Archive(std::io::Error::other(e)))??;
        }
        let slug = target.listing.slug.clone();
        let version = target.version;
        let record = scanned.clone();
        let now = self.now();
        let cached =
            record.content_hash.as_ref().map(|hash| self.cached_scan(hash, kind, &record, now));
        self.db
            .run(move |conn| {
                write_tx(conn, |conn| {
                    // Re-checked inside the transaction: nothing changed since the claim,
                    // or the upload is refused.
                    let card = owned(conn, user_id.as_str(), &target.listing.slug, None, false)?;
                    let versions = publish::versions(conn, card.id.as_str())?;
                    let fresh = upload_target(card, &versions, Some(version))?;
                    if fresh.row.as_ref() != Some(&version_id) {
                        return Err(PublishError::VersionExists(format!(
                            "Version {version} was replaced meanwhile; upload again"
                        )));
                    }
                    publish::record_upload(conn, version_id.as_str(), &record, now)?;
                    if record.is_live() {
                        moderation::refresh_live(conn, fresh.listing.id.as_str(), now)?;
                    }
                    if let Some(cached) = &cached {
                        scans::store(conn, cached)?;
                    }
                    Ok(())
                })
            })
            .await
            .map_err(|e| match e {
                PublishError::Store(StoreError::Conflict(_)) => {
                    PublishError::VersionExists(format!("Version {version} was uploaded meanwhile"))
                }
                other => other,
            })?;
        self.indexer.after_change().await;
        Ok(UploadResult {
            slug,
            version: version.to_string(),
            content_hash: scanned.content_hash.unwrap_or_default(),
            archive_sha256: scanned.archive_sha256,
            size_bytes: scanned.size_bytes,
            security_status: scanned.security_status,
            security_score: scanned.security_score,
            findings,
            layers,
        })
    }

    /// `POST /v1/skills/{slug}/unpublish` (`archive`) and `…/republish`.
    pub async fn set_archived(
        &self,
        user_id: UserId,
        slug: String,
        forced: Option<ListingType>,
        archive: bool,
    ) -> Result<ArchiveState, PublishError> {
        let now = self.now();
        let state = self
            .db
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let card = owned(conn, user_id.as_str(), &slug, forced, false)?;
                    if archive {
                        if !publish::archive_listing(conn, card.id.as_str(), now)? {
                            return Err(PublishError::AlreadyArchived);
                        }
                        Ok(ArchiveState {
                            slug: card.slug,
                            archived_at: Some(crate::present::utc(now)),
                            message: "Skill unpublished.".to_owned(),
                        })
                    } else {
                        if !publish::restore_listing(conn, card.id.as_str(), now)? {
                            return Err(PublishError::NotArchived);
                        }
                        Ok(ArchiveState {
                            slug: card.slug,
                            archived_at: None,
                            message: "Skill republished.".to_owned(),
                        })
                    }
                })
            })
            .await?;
        self.indexer.after_change().await;
        Ok(state)
    }
}

/// The rest of a PATCH, once the listing is the caller's and the body is valid. A
/// pending version that never received its archive is replaced (its number worked out
/// again); one whose upload is being scanned right now answers 409.
fn apply_change(
    conn: &mut ap_store::Conn,
    user_id: &str,
    card: ListingCard,
    changes: ListingChanges,
    now: NaiveDateTime,
) -> Result<VersionCreated, PublishError> {
    let mut versions = publish::versions(conn, card.id.as_str())?;
    if let Some(pending) = versions.iter().find(|v| v.status == VersionStatus::Pending) {
        if pending.upload_started_at.is_some_and(|claimed| now - claimed < UPLOAD_CLAIM) {
            return Err(PublishError::VersionPending(pending.version.clone()));
        }
        publish::delete_pending(conn, pending.id.as_str())?;
        versions.retain(|v| v.status != VersionStatus::Pending);
    }
    let greatest = versions.iter().filter_map(version_of).max();
    let live =
        versions.iter().filter(|v| v.status == VersionStatus::Live).filter_map(version_of).max();
    let next = publishing::next_version(changes.target, greatest, live)?;
    let parts = stored_parts(next, too_large_version("body"))?;
    if changes.price_cents.is_some_and(|p| p > 0) && !publish::payouts_enabled(conn, user_id)? {
        return Err(PublishError::OnboardingRequired);
    }
    check_text(&changes.texts())?;
    let version_id = match versions.iter().find(|v| version_of(v) == Some(next)) {
        // A version withdrawn after it was served keeps its number for good.
        Some(withdrawn) if withdrawn.published_at.is_some() => {
            return Err(PublishError::VersionExists(format!(
                "Version {next} was published and later withdrawn; choose the next version"
            )));
        }
        // A blocked version asked for again gets a new chance.
        Some(blocked) => {
            publish::reopen_version(conn, blocked.id.as_str(), changes.changelog.as_deref())?;
            blocked.id.clone()
        }
        None => {
            let row =
                pending_version(card.id.as_str(), next, parts, changes.changelog.clone(), now);
            publish::insert_version(conn, &row)?;
            VersionId::from(row.id)
        }
    };
    let fields = ListingFieldChanges {
        title: changes.title,
        description: changes.description,
        long_description: changes.long_description,
        category: changes.category,
        price_cents: changes.price_cents,
    };
    publish::update_listing(conn, card.id.as_str(), &fields, now)?;
    Ok(VersionCreated {
        slug: card.slug.clone(),
        previous_version: card.current_version,
        new_version: next.to_string(),
        version_id: version_id.into_string(),
        status: VersionStatus::Pending.as_str().to_owned(),
        message: format!(
            "Version {next} created. Upload its package to POST /v1/{}s/{}/upload?version={next}.",
            card.listing_type.as_str(),
            card.slug
        ),
    })
}

fn verdict(report: &Report) -> SecurityStatus {
    match report.status {
        ap_scan::Status::Block => SecurityStatus::Block,
        ap_scan::Status::Warn => SecurityStatus::Warn,
        _ => SecurityStatus::Pass,
    }
}

/// Counts a scan by verdict (`ap_scans_total`) and times it (`ap_scan_duration_seconds`).
fn record_scan(report: &Report, started: std::time::Instant) {
    let verdict = verdict(report).as_str();
    metrics::counter!("ap_scans_total", "verdict" => verdict).increment(1);
    metrics::histogram!("ap_scan_duration_seconds").record(started.elapsed().as_secs_f64());
}

/// A scan report as the store keeps it, with its findings and layers as JSON values.
pub fn scanned_archive(
    report: &Report,
    archive_sha256: String,
    size_bytes: i64,
) -> Result<(ScannedArchive, Vec<Value>, Vec<Value>), StoreError> {
    let findings = to_values(&report.findings)?;
    let layers = to_values(&report.layers)?;
    Ok((
        ScannedArchive {
            security_status: verdict(report),
            security_score: i32::from(report.score),
            archive_sha256,
            content_hash: report.content_hash.clone(),
            size_bytes,
            findings: serde_json::to_string(&findings)?,
            layers: serde_json::to_string(&layers)?,
        },
        findings,
        layers,
    ))
}
