//! Security endpoints (CONTRACT §6): cached verdicts by content hash, scanning a package
//! on demand (cached by its content hash), and the verdict of a live listing.

use actix_web::HttpRequest;
use actix_web::web::{Data, Json, Path, Payload};
use ap_domain::listing::SecurityStatus;
use ap_domain::wire::{PackageScan, ScanVerdict, SecurityResults};
use ap_domain::{Code, FieldError};
use ap_scan::PackageKind;
use ap_store::scans;

use crate::error::ApiError;
use crate::publishing::{cached_scan, scanned_archive};
use crate::routes::catalog::load_live;
use crate::state::AppState;
use crate::upload;

fn json_list(text: &str) -> Result<Vec<serde_json::Value>, ApiError> {
    serde_json::from_str(text).map_err(|e| ApiError::Internal(format!("stored scan: {e}")))
}

/// `GET /v1/security/check/{content_hash}`: the cached verdict, or 404.
pub async fn check_hash(
    state: Data<AppState>,
    hash: Path<String>,
) -> Result<Json<ScanVerdict>, ApiError> {
    let hash = hash.into_inner();
    if !ap_domain::content::is_content_hash(&hash) {
        return Err(FieldError {
            loc: vec!["path".to_owned(), "content_hash".to_owned()],
            msg: "Content hash should look like sha256:<64 hex digits>".to_owned(),
            kind: "string_pattern_mismatch".to_owned(),
        }
        .into());
    }
    let cached = state
        .db()
        .run(move |conn| scans::cached(conn, &hash, ap_scan::SCANNER_VERSION))
        .await?
        .ok_or_else(|| ApiError::coded(Code::NotFound, "No verdict is cached for this content"))?;
    Ok(Json(ScanVerdict {
        security_status: SecurityStatus::from_db(&cached.security_status),
        security_score: cached.security_score,
        findings: json_list(&cached.findings)?,
    }))
}

/// `POST /v1/security/scan-package` (multipart: `package` file part, and `content_hash`,
/// `source`, `source_slug`, `source_version`, `skill_type`): scans the package and caches
/// the verdict by the content hash computed from its files (the client's `content_hash`
/// is not trusted; the answer carries the server's, empty when the archive is unreadable).
pub async fn scan_package(
    req: HttpRequest,
    state: Data<AppState>,
    payload: Payload,
) -> Result<Json<PackageScan>, ApiError> {
    let received = upload::receive(
        &req,
        payload,
        state.publisher().blobs().as_ref(),
        "package",
        &["skill_type"],
    )
    .await?;
    let kind = match received.fields.get("skill_type").map(|t| t.to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("skill") => PackageKind::Skill,
        Some("agent") => PackageKind::Agent,
        Some(_) => {
            return Err(FieldError::body(
                "skill_type",
                "enum",
                "Input should be one of: skill, agent",
            )
            .into());
        }
    };
    let staged = received
        .file
        .ok_or_else(|| ApiError::from(FieldError::body("package", "missing", "Field required")))?;
    let (staged_sha, size) = (staged.sha256().to_owned(), staged.size() as i64);
    let (_, report) = state.publisher().scan(staged, kind).await?;
    let (scanned, findings, layers) = scanned_archive(&report, staged_sha, size)?;
    let content_hash = match &scanned.content_hash {
        Some(hash) => {
            let row = cached_scan(hash, &scanned, state.auth().clock().now().naive_utc());
            state.db().run(move |conn| scans::store(conn, &row)).await?;
            hash.clone()
        }
        // An unreadable archive has no content hash; the verdict is not cached.
        None => String::new(),
    };
    Ok(Json(PackageScan {
        content_hash,
        security_status: SecurityStatus::from_db(&scanned.security_status),
        security_score: scanned.security_score,
        findings,
        layers,
    }))
}

/// `GET /v1/security/results/{slug}`: the verdict of a live listing's current version.
pub async fn results(
    state: Data<AppState>,
    slug: Path<String>,
) -> Result<Json<SecurityResults>, ApiError> {
    let live = load_live(&state, &slug, None).await?;
    let detail = &live.detail;
    Ok(Json(SecurityResults {
        slug: detail.summary.slug.clone(),
        status: detail.summary.security_status,
        score: detail.security_score,
        trust_level: trust_level(detail.summary.author.verified).to_owned(),
        findings: detail.security_findings.clone(),
    }))
}

/// `verified` for verified sellers, `community` otherwise.
pub fn trust_level(verified: bool) -> &'static str {
    if verified { "verified" } else { "community" }
}
