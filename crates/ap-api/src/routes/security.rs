//! Security endpoints (docs/API.md, Security scan): cached verdicts by content hash, scanning a package
//! on demand, and the verdict of a live listing.

use actix_web::HttpRequest;
use actix_web::web::{Data, Json, Path, Payload};
use ap_domain::FieldError;
use ap_domain::wire::{PackageScan, ScanVerdict, SecurityResults};
use ap_market::scans::Scans;

use crate::auth::MaybeAuthenticated;
use crate::error::ApiError;
use crate::openapi::ErrorBody;
use crate::state::AppState;
use crate::upload;

/// `GET /v1/security/check/{content_hash}`: the cached verdict, or 404.
#[utoipa::path(
    method(get, head),
    path = "/v1/security/check/{content_hash}",
    tag = "security",
    params(
        ("content_hash" = String, Path, pattern = "^sha256:[0-9a-f]{64}$",
            description = "The package's content hash: `sha256:` and 64 lowercase hex digits \
                           (the colon is part of the path segment)"),
    ),
    responses(
        (
            status = 200,
            description = "The cached verdict of a package this server has scanned with its \
                           current rules; the worst over package kinds (skill, agent)",
            body = ScanVerdict
        ),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    ),
    security((), ("bearer" = [])),
)]
pub async fn check_hash(
    state: Data<AppState>,
    hash: Path<String>,
) -> Result<Json<ScanVerdict>, ApiError> {
    Ok(Json(state.market().scans().verdict(hash.into_inner()).await?))
}

/// The `multipart/form-data` body of `POST /v1/security/scan-package`. Parts other than
/// `package` and `skill_type` are read and ignored.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Describes a multipart body the handler streams part by part.
pub struct PackageScanForm {
    /// The package as a ZIP, at most 10 MB (exactly one such part).
    #[schema(value_type = String, format = Binary)]
    package: Vec<u8>,
    /// `skill` (the default) or `agent`, any case; at most 1,024 bytes.
    #[schema(max_length = 1024)]
    skill_type: Option<String>,
    /// Accepted and ignored: the server computes the content hash itself.
    content_hash: Option<String>,
    /// Accepted and ignored.
    source: Option<String>,
    /// Accepted and ignored.
    source_slug: Option<String>,
    /// Accepted and ignored.
    source_version: Option<String>,
}

/// `POST /v1/security/scan-package` (multipart, file part `package`): scans it; for a
/// signed-in caller the verdict is cached by content hash and kind.
#[utoipa::path(
    post,
    path = "/v1/security/scan-package",
    tag = "security",
    request_body(
        content = PackageScanForm,
        content_type = "multipart/form-data",
        description = "One file part `package` (the ZIP, at most 10 MB) and an optional text \
                       part `skill_type`"
    ),
    responses(
        (
            status = 200,
            description = "The scan's verdict (also for `block`); cached by content hash and \
                           kind only for a signed-in caller; `content_hash` is `\"\"` when the \
                           archive cannot be read",
            body = PackageScan
        ),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    ),
    security((), ("bearer" = [])),
)]
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
#[utoipa::path(
    method(get, head),
    path = "/v1/security/results/{slug}",
    tag = "security",
    params(
        ("slug" = String, Path, description = "The live listing's slug"),
    ),
    responses(
        (
            status = 200,
            description = "The verdict of the listing's current version",
            body = SecurityResults
        ),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    ),
    security((), ("bearer" = [])),
)]
pub async fn results(
    state: Data<AppState>,
    slug: Path<String>,
) -> Result<Json<SecurityResults>, ApiError> {
    Ok(Json(state.market().catalog().security_results(&slug).await?))
}
