//! Security endpoints (docs/API.md, Security scan): cached verdicts by content hash, scanning a package
//! on demand, and the verdict of a live listing.

use actix_web::HttpRequest;
use actix_web::web::{Data, Json, Path, Payload};
use ap_domain::FieldError;
use ap_domain::wire::{PackageScan, ScanVerdict, SecurityResults};
use ap_market::scans::Scans;

use crate::auth::MaybeAuthenticated;
use crate::error::ApiError;
use crate::state::AppState;
use crate::upload;

/// `GET /v1/security/check/{content_hash}`: the cached verdict, or 404.
pub async fn check_hash(
    state: Data<AppState>,
    hash: Path<String>,
) -> Result<Json<ScanVerdict>, ApiError> {
    Ok(Json(state.market().scans().verdict(hash.into_inner()).await?))
}

/// `POST /v1/security/scan-package` (multipart, file part `package`): scans it; for a
/// signed-in caller the verdict is cached by content hash and kind.
pub async fn scan_package(
    req: HttpRequest,
    state: Data<AppState>,
    caller: MaybeAuthenticated,
    payload: Payload,
) -> Result<Json<PackageScan>, ApiError> {
    let market = state.market();
    let received =
        upload::receive(&req, payload, market.blobs().as_ref(), "package", &["skill_type"]).await?;
    let kind = Scans::kind(received.fields.get("skill_type").map(String::as_str))?;
    let staged = received
        .file
        .ok_or_else(|| ApiError::field(FieldError::body("package", "missing", "Field required")))?;
    Ok(Json(market.scans().scan_package(staged, kind, caller.0.is_some()).await?))
}

/// `GET /v1/security/results/{slug}`: the verdict of a live listing.
pub async fn results(
    state: Data<AppState>,
    slug: Path<String>,
) -> Result<Json<SecurityResults>, ApiError> {
    Ok(Json(state.market().catalog().security_results(&slug).await?))
}
