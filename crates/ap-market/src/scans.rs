//! Security endpoints (docs/API.md, Security scan): cached verdicts by content hash, and scanning a
//! package on demand (its verdict cached by content hash).

use std::sync::Arc;

use ap_domain::clock::Clock;
use ap_domain::listing::ListingType;
use ap_domain::wire::{PackageScan, ScanVerdict};
use ap_domain::{Code, ErrorCode, FieldError, FieldErrors};
use ap_scan::PackageKind;
use ap_store::{Db, StoreError, UnitError, scans};

use crate::blobs::Staged;
use crate::publishing::{PublishError, Publisher, scanned_archive};

/// Why a verdict could not be given.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// No verdict is cached for that content.
    #[error("No verdict is cached for this content")]
    NoVerdict,
    /// The request's fields are invalid.
    #[error(transparent)]
    Invalid(#[from] FieldErrors),
    /// The scan could not run.
    #[error(transparent)]
    Scan(#[from] PublishError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UnitError for ScanError {
    fn store_error(&self) -> Option<&StoreError> {
        match self {
            ScanError::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl ErrorCode for ScanError {
    fn code(&self) -> Code {
        match self {
            ScanError::NoVerdict => Code::NotFound,
            ScanError::Invalid(e) => e.code(),
            ScanError::Scan(e) => e.code(),
            ScanError::Store(e) => e.code(),
        }
    }

    fn public_message(&self) -> String {
        match self {
            ScanError::Scan(e) => e.public_message(),
            ScanError::Store(e) => e.public_message(),
            other => other.to_string(),
        }
    }

    fn field_errors(&self) -> Option<&FieldErrors> {
        match self {
            ScanError::Invalid(errors) => Some(errors),
            _ => None,
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            ScanError::Scan(e) => e.retry_after(),
            _ => None,
        }
    }
}

/// Verdicts by content hash, and scans on demand.
#[derive(Debug, Clone)]
pub struct Scans {
    db: Db,
    publisher: Publisher,
    clock: Arc<dyn Clock>,
}

fn json_list(text: &str) -> Result<Vec<serde_json::Value>, StoreError> {
    Ok(serde_json::from_str(text)?)
}

impl Scans {
    /// Scans through `publisher` (which bounds concurrent scans), verdicts in `db`.
    pub fn new(db: Db, publisher: Publisher, clock: Arc<dyn Clock>) -> Self {
        Self { db, publisher, clock }
    }

    /// `GET /v1/security/check/{content_hash}`: the cached verdict of this scanner
    /// version.
    pub async fn verdict(&self, hash: String) -> Result<ScanVerdict, ScanError> {
        if !ap_domain::content::is_content_hash(&hash) {
            return Err(FieldErrors::from(FieldError {
                loc: vec!["path".to_owned(), "content_hash".to_owned()],
                msg: "Content hash should look like sha256:<64 hex digits>".to_owned(),
                kind: "string_pattern_mismatch".to_owned(),
            })
            .into());
        }
        let version = self.publisher.scanner_version().to_owned();
        let cached = self
            .db
            .run(move |conn| scans::cached(conn, &hash, &version))
            .await?
            .ok_or(ScanError::NoVerdict)?;
        Ok(ScanVerdict {
            security_status: cached.status(),
            security_score: cached.security_score,
            findings: json_list(&cached.findings)?,
        })
    }

    /// The package kind named by a `skill_type` form field.
    pub fn kind(skill_type: Option<&str>) -> Result<PackageKind, ScanError> {
        let raw = skill_type.unwrap_or("").to_ascii_lowercase();
        match (raw.as_str(), ListingType::parse(&raw)) {
            ("", _) | (_, Some(ListingType::Skill)) => Ok(PackageKind::Skill),
            (_, Some(ListingType::Agent)) => Ok(PackageKind::Agent),
            (_, None) => Err(FieldErrors::from(FieldError::body(
                "skill_type",
                "enum",
                "Input should be one of: skill, agent",
            ))
            .into()),
        }
    }

    /// `POST /v1/security/scan-package`: scans a staged package; when `on_record` (the
    /// caller is signed in) its verdict is cached by content hash and kind. An anonymous
    /// scan is answered but not recorded, so no one can seed the shared verdicts without
    /// an account; an unreadable archive has no content hash and is never cached.
    pub async fn scan_package(
        &self,
        staged: Staged,
        kind: PackageKind,
        on_record: bool,
    ) -> Result<PackageScan, ScanError> {
        let (staged_sha, size) = (staged.sha256().to_owned(), staged.size() as i64);
        let (_, report) = self.publisher.scan(staged, kind).await?;
        let (scanned, findings, layers) = scanned_archive(&report, staged_sha, size)?;
        let content_hash = scanned.content_hash.clone().unwrap_or_default();
        if on_record && !content_hash.is_empty() {
            let now = self.clock.now().naive_utc();
            let row = self.publisher.cached_scan(&content_hash, kind, &scanned, now);
            self.db.run(move |conn| scans::store(conn, &row)).await?;
        }
        Ok(PackageScan {
            content_hash,
            security_status: scanned.security_status,
            security_score: scanned.security_score,
            findings,
            layers,
        })
    }
}
