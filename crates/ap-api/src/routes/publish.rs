//! Publishing routes (docs/API.md, Publishing), mounted under `/v1/skills` and `/v1/agents` (type
//! forced to `agent`): create, `PATCH` a new version, upload, unpublish, republish. The
//! work is in [`ap_market::publishing::Publisher`].

use actix_web::http::StatusCode;
use actix_web::web::{Data, Json, Path, Payload};
use actix_web::{HttpRequest, HttpResponse};
use ap_domain::FieldError;
use ap_domain::version::Version;
use ap_domain::wire::{ArchiveState, VersionCreated};
use serde_json::{Map, Value};

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::kind::Kind;
use crate::query::{RawQuery, param};
use crate::state::AppState;
use crate::upload;

/// `POST /v1/skills`, `POST /v1/agents`.
pub async fn create_listing(
    state: Data<AppState>,
    Kind(forced): Kind,
    Authenticated(caller): Authenticated,
    body: Json<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    let created =
        state.market().publisher().create(caller.user_id.into(), body.into_inner(), forced).await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(created))
}

/// `PATCH /v1/skills/{slug}`, `PATCH /v1/agents/{slug}`.
pub async fn change_listing(
    state: Data<AppState>,
    Kind(forced): Kind,
    Authenticated(caller): Authenticated,
    slug: Path<String>,
    body: Json<Map<String, Value>>,
) -> Result<Json<VersionCreated>, ApiError> {
    let publisher = state.market().publisher();
    let changed = publisher
        .change(caller.user_id.into(), slug.into_inner(), body.into_inner(), forced)
        .await?;
    Ok(Json(changed))
}

/// The parsed `?version=`, if any.
fn requested_version(query: &RawQuery) -> Result<Option<Version>, ApiError> {
    match param(query, "version").map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(raw) => Version::parse(raw).map(Some).map_err(|e| {
            ApiError::field(FieldError::query("version", "version_format", e.to_string()))
        }),
    }
}

/// `POST /v1/skills/{slug}/upload[?version=X.Y.Z]` (and the agents twin): who, what and
/// which version are settled before the body is read; then the archive is staged,
/// scanned and recorded.
pub async fn upload_archive(
    req: HttpRequest,
    state: Data<AppState>,
    Kind(forced): Kind,
    Authenticated(caller): Authenticated,
    slug: Path<String>,
    query: RawQuery,
    payload: Payload,
) -> Result<HttpResponse, ApiError> {
    upload::check_declared_length(&req)?;
    let requested = requested_version(&query)?;
    let publisher = state.market().publisher();
    let user_id: ap_domain::UserId = caller.user_id.into();
    let target =
        publisher.upload_target(user_id.clone(), slug.into_inner(), forced, requested).await?;
    let received = upload::receive(&req, payload, publisher.blobs().as_ref(), "file", &[]).await?;
    let staged = received
        .file
        .ok_or_else(|| ApiError::field(FieldError::body("file", "missing", "Field required")))?;
    let result = publisher.upload(user_id, target, staged).await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(result))
}

/// `POST /v1/skills/{slug}/unpublish` (and the agents twin).
pub async fn unpublish_listing(
    state: Data<AppState>,
    Kind(forced): Kind,
    Authenticated(caller): Authenticated,
    slug: Path<String>,
) -> Result<Json<ArchiveState>, ApiError> {
    let publisher = state.market().publisher();
    Ok(Json(publisher.set_archived(caller.user_id.into(), slug.into_inner(), forced, true).await?))
}

/// `POST /v1/skills/{slug}/republish` (and the agents twin).
pub async fn republish_listing(
    state: Data<AppState>,
    Kind(forced): Kind,
    Authenticated(caller): Authenticated,
    slug: Path<String>,
) -> Result<Json<ArchiveState>, ApiError> {
    let publisher = state.market().publisher();
    Ok(Json(publisher.set_archived(caller.user_id.into(), slug.into_inner(), forced, false).await?))
}
