//! The publishing lifecycle (CONTRACT §5), independent of HTTP: create a listing, ask for
//! a new version, upload and scan an archive, unpublish and republish.
//!
//! The routes call these, and so does the demo seed, so seeded listings go through the
//! same checks and the same scan. Every change runs in one transaction; business checks
//! come before any write, so a refusal leaves nothing behind.

use std::sync::Arc;

use ap_domain::listing::ListingType;
use ap_domain::publishing::{self, ListingChanges, NewListingFields};
use ap_domain::version::Version;
use ap_domain::wire::{ArchiveState, ListingCreated, UploadResult, VersionCreated};
use ap_domain::{Code, FieldError};
use ap_scan::{PackageKind, Report, Severity};
use ap_store::blobs::{BlobStore, Staged};
use ap_store::models::{ListingCard, ListingVersion, NewListing, NewListingVersion};
use ap_store::publish::{self, ListingFieldChanges, ScannedArchive};
use ap_store::scans::{self, CachedScan};
use ap_store::{Db, StoreError, catalog, write_tx};
use chrono::NaiveDateTime;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::routes::catalog::not_found;

/// Publishing over a database and an archive store.
#[derive(Debug, Clone)]
pub struct Publisher {
    db: Db,
    blobs: Arc<dyn BlobStore>,
    /// Scans running at once (one per core): each may inflate up to the scan's caps.
    scans: Arc<tokio::sync::Semaphore>,
}

/// The answer of a unit of work: a store failure (outer) or a refusal (inner).
type Checked<T> = Result<Result<T, ApiError>, StoreError>;

fn not_owner() -> ApiError {
    ApiError::coded(Code::SkillNotOwner, "This listing belongs to another seller")
}

fn archived() -> ApiError {
    ApiError::coded(Code::SkillArchived, "This listing is unpublished; republish it first")
}

fn slug_taken() -> ApiError {
    ApiError::coded(Code::SlugTaken, "A listing with this slug already exists")
}

fn package_kind(kind: ListingType) -> PackageKind {
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
fn stored_parts(version: Version, field: FieldError) -> Result<(i32, i32, i32), ApiError> {
    let part = |p: u32| i32::try_from(p).map_err(|_| ApiError::from(field.clone()));
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
        status: "pending".to_owned(),
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
fn check_text(fields: &[(&str, &str)]) -> Result<(), ApiError> {
    let findings = ap_scan::scan_text(fields);
    if findings.iter().any(|f| f.severity == Severity::High) {
        return Err(ApiError::Findings {
            code: Code::ListingTextRejected,
            message: "The listing text failed the security scan".to_owned(),
            findings: to_values(&findings)?,
        });
    }
    Ok(())
}

fn to_values<T: serde::Serialize>(items: &[T]) -> Result<Vec<Value>, ApiError> {
    items
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<_, _>>()
        .map_err(|e| ApiError::Internal(format!("serialising findings: {e}")))
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
) -> Checked<ListingCard> {
    publish::lock_listing(conn, slug)?;
    let Some((card, _)) = catalog::listing_by_slug(conn, slug, kind)? else {
        return Ok(Err(not_found()));
    };
    if card.owner_id != user_id {
        return Ok(Err(if reveal_owner && card.is_live() { not_owner() } else { not_found() }));
    }
    Ok(Ok(card))
}

/// Which version row an upload fills.
#[derive(Debug, Clone)]
pub struct UploadTarget {
    /// The listing.
    pub listing: ListingCard,
    /// The version the archive becomes.
    pub version: Version,
    /// The pending or blocked row it fills (`None`: a new row).
    pub row: Option<String>,
}

fn query_version_error(msg: String) -> ApiError {
    FieldError::query("version", "version_not_available", msg).into()
}

/// Decides the version of an upload (CONTRACT §5): the requested one, else the pending
/// one, else `1.0.0` for a listing that never went live.
fn upload_target(
    listing: ListingCard,
    versions: &[ListingVersion],
    requested: Option<Version>,
) -> Result<UploadTarget, ApiError> {
    if listing.archived_at.is_some() {
        return Err(archived());
    }
    let live = versions.iter().filter(|v| v.status == "live").filter_map(version_of).max();
    let pending = versions.iter().find(|v| v.status == "pending");
    let row_of = |wanted: Version| versions.iter().find(|v| version_of(v) == Some(wanted));
    let version = match (requested, pending) {
        (Some(wanted), _) if row_of(wanted).is_some_and(|r| r.status == "live") => {
            return Err(ApiError::coded(
                Code::VersionExists,
                format!("Version {wanted} is already live; versions cannot be replaced"),
            ));
        }
        (Some(wanted), Some(p)) if version_of(p) != Some(wanted) => {
            return Err(ApiError::coded(
                Code::SkillVersionPending,
                format!("Version {} is waiting for its upload", p.version),
            ));
        }
        (Some(wanted), _) => {
            if let Some(current) = live.filter(|current| wanted <= *current) {
                return Err(query_version_error(format!(
                    "Version should be greater than the current version {current}"
                )));
            }
            wanted
        }
        (None, Some(p)) => version_of(p).ok_or_else(|| ApiError::Internal("bad version".into()))?,
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
    /// Publishing over `db`, keeping archives in `blobs`.
    pub fn new(db: Db, blobs: Arc<dyn BlobStore>) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self { db, blobs, scans: Arc::new(tokio::sync::Semaphore::new(cores)) }
    }

    /// Scans a staged archive on the blocking pool, at most one scan per core at a time
    /// (others wait their turn), so memory stays bounded however many uploads arrive.
    pub async fn scan(
        &self,
        staged: Staged,
        kind: PackageKind,
    ) -> Result<(Staged, Report), ApiError> {
        let _permit = self
            .scans
            .acquire()
            .await
            .map_err(|e| ApiError::Internal(format!("scan permits: {e}")))?;
        tokio::task::spawn_blocking(move || {
            let bytes = staged.read()?;
            let report = ap_scan::scan(&bytes, kind, &ap_scan::Limits::default());
            Ok::<_, StoreError>((staged, report))
        })
        .await
        .map_err(|e| ApiError::Internal(format!("scan task: {e}")))?
        .map_err(ApiError::from)
    }

    /// The archive store.
    pub fn blobs(&self) -> &Arc<dyn BlobStore> {
        &self.blobs
    }

    /// `POST /v1/skills`: checks in the contract's order, then creates the listing.
    pub async fn create(
        &self,
        user_id: String,
        body: Map<String, Value>,
        forced: Option<ListingType>,
        now: NaiveDateTime,
    ) -> Result<ListingCreated, ApiError> {
        let slug = publishing::requested_slug(&body).map(str::to_owned);
        let checked = self
            .db
            .run(move |conn| -> Checked<(NewListingFields, String)> {
                // An existing slug first: the CLI re-publishes by POSTing and switching
                // to PATCH on 409.
                if let Some(slug) = slug
                    && publish::slug_exists(conn, &slug)?
                {
                    return Ok(Err(slug_taken()));
                }
                if ap_store::users::by_id(conn, &user_id)?.display_name.is_none() {
                    return Ok(Err(ApiError::coded(
                        Code::DisplayNameRequired,
                        "Set a display name on your profile before publishing",
                    )));
                }
                let categories = catalog::category_slugs(conn)?;
                let fields = match publishing::parse_new_listing(&body, forced, &|c| {
                    categories.iter().any(|k| k == c)
                }) {
                    Ok(fields) => fields,
                    Err(errors) => return Ok(Err(errors.into())),
                };
                if fields.price_cents > 0 && !publish::payouts_enabled(conn, &user_id)? {
                    return Ok(Err(onboarding_required()));
                }
                if let Err(e) = check_text(&fields.texts()) {
                    return Ok(Err(e));
                }
                let listing = NewListing {
                    id: uuid::Uuid::now_v7().to_string(),
                    slug: fields.slug.as_str().to_owned(),
                    owner_id: user_id,
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
                    Ok(()) => Ok(Ok((fields, listing.id))),
                    // A concurrent POST took the slug between the check and the insert.
                    Err(StoreError::Conflict(_)) => Ok(Err(slug_taken())),
                    Err(e) => Err(e),
                }
            })
            .await??;
        let (checked, id) = checked;
        Ok(ListingCreated {
            slug: checked.slug.as_str().to_owned(),
            id,
            status: "pending".to_owned(),
            message: format!(
                "Listing created. Upload a package to POST /v1/{}s/{}/upload to publish it.",
                checked.listing_type.as_str(),
                checked.slug
            ),
        })
    }

    /// `PATCH /v1/skills/{slug}`: a new pending version, and listing field changes.
    pub async fn change(
        &self,
        user_id: String,
        slug: String,
        body: Map<String, Value>,
        forced: Option<ListingType>,
        now: NaiveDateTime,
    ) -> Result<VersionCreated, ApiError> {
        self.db
            .run(move |conn| {
                write_tx(conn, |conn| -> Checked<VersionCreated> {
                    let card = match owned(conn, &user_id, &slug, forced, true)? {
                        Ok(card) => card,
                        Err(e) => return Ok(Err(e)),
                    };
                    if card.archived_at.is_some() {
                        return Ok(Err(archived()));
                    }
                    let categories = catalog::category_slugs(conn)?;
                    let changes = match publishing::parse_changes(&body, &|c| {
                        categories.iter().any(|k| k == c)
                    }) {
                        Ok(changes) => changes,
                        Err(errors) => return Ok(Err(errors.into())),
                    };
                    match apply_change(conn, &user_id, card, changes, now)? {
                        Ok(created) => Ok(Ok(created)),
                        Err(e) => Ok(Err(e)),
                    }
                })
            })
            .await?
    }

    /// Checks that `user_id` may upload to `slug` now, and which version it would be
    /// (before the body is read).
    pub async fn upload_target(
        &self,
        user_id: String,
        slug: String,
        forced: Option<ListingType>,
        requested: Option<Version>,
    ) -> Result<UploadTarget, ApiError> {
        let target = self
            .db
            .run(move |conn| -> Checked<UploadTarget> {
                let card = match owned(conn, &user_id, &slug, forced, false)? {
                    Ok(card) => card,
                    Err(e) => return Ok(Err(e)),
                };
                let versions = publish::versions(conn, &card.id)?;
                Ok(upload_target(card, &versions, requested))
            })
            .await??;
        stored_parts(target.version, too_large_version("query"))?;
        Ok(target)
    }

    /// `POST /v1/skills/{slug}/upload`: scans the staged archive, stores it, and records
    /// the version (live on `pass`/`warn`, blocked on `block`).
    pub async fn upload(
        &self,
        user_id: String,
        target: UploadTarget,
        staged: Staged,
        now: NaiveDateTime,
    ) -> Result<UploadResult, ApiError> {
        let kind = package_kind(crate::present::listing_type(&target.listing));
        let (staged, report) = self.scan(staged, kind).await?;
        let (scanned, findings, layers) =
            scanned_archive(&report, staged.sha256().to_owned(), staged.size() as i64)?;
        // A live version's archive is in the store before the version is.
        if scanned.is_live() {
            let blobs = Arc::clone(&self.blobs);
            tokio::task::spawn_blocking(move || blobs.put(staged))
                .await
                .map_err(|e| ApiError::Internal(format!("store task: {e}")))??;
        }
        let slug = target.listing.slug.clone();
        let version = target.version;
        let record = scanned.clone();
        let parts = stored_parts(version, too_large_version("query"))?;
        self.db
            .run(move |conn| {
                write_tx(conn, |conn| -> Checked<()> {
                    // Re-checked inside the transaction: nothing changed since the target
                    // was chosen, or the upload is refused.
                    let card = match owned(conn, &user_id, &target.listing.slug, None, false)? {
                        Ok(card) => card,
                        Err(e) => return Ok(Err(e)),
                    };
                    let versions = publish::versions(conn, &card.id)?;
                    let fresh = match upload_target(card, &versions, Some(version)) {
                        Ok(fresh) => fresh,
                        Err(e) => return Ok(Err(e)),
                    };
                    let version_id = match fresh.row {
                        Some(row) => {
                            publish::record_upload(conn, &row, &record, now)?;
                            row
                        }
                        None => {
                            let row = pending_version(&fresh.listing.id, version, parts, None, now);
                            publish::insert_version(conn, &row)?;
                            publish::record_upload(conn, &row.id, &record, now)?;
                            row.id
                        }
                    };
                    if record.is_live() {
                        publish::go_live(
                            conn,
                            &fresh.listing.id,
                            &version_id,
                            &version.to_string(),
                            &record,
                            now,
                        )?;
                    }
                    if let Some(hash) = &record.content_hash {
                        scans::store(conn, &cached_scan(hash, &record, now))?;
                    }
                    Ok(Ok(()))
                })
            })
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => ApiError::coded(
                    Code::VersionExists,
                    format!("Version {version} was uploaded meanwhile"),
                ),
                other => other.into(),
            })??;
        Ok(UploadResult {
            slug,
            version: version.to_string(),
            content_hash: scanned.content_hash.unwrap_or_default(),
            archive_sha256: scanned.archive_sha256,
            size_bytes: scanned.size_bytes,
            security_status: ap_domain::listing::SecurityStatus::from_db(&scanned.security_status),
            security_score: scanned.security_score,
            findings,
            layers,
        })
    }

    /// `POST /v1/skills/{slug}/unpublish` (`archive`) and `…/republish`.
    pub async fn set_archived(
        &self,
        user_id: String,
        slug: String,
        forced: Option<ListingType>,
        archive: bool,
        now: NaiveDateTime,
    ) -> Result<ArchiveState, ApiError> {
        self.db
            .run(move |conn| {
                write_tx(conn, |conn| -> Checked<ArchiveState> {
                    let card = match owned(conn, &user_id, &slug, forced, false)? {
                        Ok(card) => card,
                        Err(e) => return Ok(Err(e)),
                    };
                    if archive {
                        if !publish::archive_listing(conn, &card.id, now)? {
                            return Ok(Err(ApiError::coded(
                                Code::SkillArchived,
                                "This listing is already unpublished",
                            )));
                        }
                        Ok(Ok(ArchiveState {
                            slug: card.slug,
                            archived_at: Some(crate::present::utc(now)),
                            message: "Skill unpublished.".to_owned(),
                        }))
                    } else {
                        if !publish::restore_listing(conn, &card.id, now)? {
                            return Ok(Err(ApiError::coded(
                                Code::SkillNotArchived,
                                "This listing is not unpublished",
                            )));
                        }
                        Ok(Ok(ArchiveState {
                            slug: card.slug,
                            archived_at: None,
                            message: "Skill republished.".to_owned(),
                        }))
                    }
                })
            })
            .await?
    }
}

fn onboarding_required() -> ApiError {
    ApiError::coded(
        Code::SellerOnboardingRequired,
        "Paid listings need a seller account with payouts enabled; see POST /v1/sellers/connect",
    )
}

/// The rest of a PATCH, once the listing is the caller's and the body is valid.
fn apply_change(
    conn: &mut ap_store::Conn,
    user_id: &str,
    card: ListingCard,
    changes: ListingChanges,
    now: NaiveDateTime,
) -> Checked<VersionCreated> {
    let versions = publish::versions(conn, &card.id)?;
    if let Some(pending) = versions.iter().find(|v| v.status == "pending") {
        return Ok(Err(ApiError::coded(
            Code::SkillVersionPending,
            format!("Version {} is waiting for its upload", pending.version),
        )));
    }
    let greatest = versions.iter().filter_map(version_of).max();
    let live = versions.iter().filter(|v| v.status == "live").filter_map(version_of).max();
    let next = match publishing::next_version(changes.target, greatest, live) {
        Ok(next) => next,
        Err(e) => return Ok(Err(e.into())),
    };
    let parts = match stored_parts(next, too_large_version("body")) {
        Ok(parts) => parts,
        Err(e) => return Ok(Err(e)),
    };
    if changes.price_cents.is_some_and(|p| p > 0) && !publish::payouts_enabled(conn, user_id)? {
        return Ok(Err(onboarding_required()));
    }
    if let Err(e) = check_text(&changes.texts()) {
        return Ok(Err(e));
    }
    let version_id = match versions.iter().find(|v| version_of(v) == Some(next)) {
        // A blocked version asked for again gets a new chance.
        Some(blocked) => {
            publish::reopen_version(conn, &blocked.id, changes.changelog.as_deref())?;
            blocked.id.clone()
        }
        None => {
            let row = pending_version(&card.id, next, parts, changes.changelog.clone(), now);
            publish::insert_version(conn, &row)?;
            row.id
        }
    };
    let fields = ListingFieldChanges {
        title: changes.title,
        description: changes.description,
        long_description: changes.long_description,
        category: changes.category,
        price_cents: changes.price_cents,
    };
    publish::update_listing(conn, &card.id, &fields, now)?;
    Ok(Ok(VersionCreated {
        slug: card.slug.clone(),
        previous_version: card.current_version,
        new_version: next.to_string(),
        version_id,
        status: "pending".to_owned(),
        message: format!(
            "Version {next} created. Upload its package to POST /v1/{}s/{}/upload?version={next}.",
            card.listing_type, card.slug
        ),
    }))
}

fn status_text(report: &Report) -> &'static str {
    match report.status {
        ap_scan::Status::Block => "block",
        ap_scan::Status::Warn => "warn",
        _ => "pass",
    }
}

/// The scan-cache row of a verdict.
pub fn cached_scan(hash: &str, scan: &ScannedArchive, now: NaiveDateTime) -> CachedScan {
    CachedScan {
        content_hash: hash.to_owned(),
        security_status: scan.security_status.clone(),
        security_score: scan.security_score,
        findings: scan.findings.clone(),
        layers: scan.layers.clone(),
        scanner_version: ap_scan::SCANNER_VERSION.to_owned(),
        created_at: now,
    }
}

/// A scan report as the store keeps it.
pub fn scanned_archive(
    report: &Report,
    archive_sha256: String,
    size_bytes: i64,
) -> Result<(ScannedArchive, Vec<Value>, Vec<Value>), ApiError> {
    let findings = to_values(&report.findings)?;
    let layers = to_values(&report.layers)?;
    Ok((
        ScannedArchive {
            security_status: status_text(report).to_owned(),
            security_score: i32::from(report.score),
            archive_sha256,
            content_hash: report.content_hash.clone(),
            size_bytes,
            findings: serde_json::to_string(&findings).unwrap_or_else(|_| "[]".to_owned()),
            layers: serde_json::to_string(&layers).unwrap_or_else(|_| "[]".to_owned()),
        },
        findings,
        layers,
    ))
}
