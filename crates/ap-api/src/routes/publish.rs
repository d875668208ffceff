//! Publishing routes (CONTRACT §5): `POST /v1/skills`, `PATCH /v1/skills/{slug}`,
//! `POST /v1/skills/{slug}/upload[?version=]`, `…/unpublish`, `…/republish`, and the
//! `/v1/agents` twins (type forced to `agent`). The work is in [`crate::publishing`].

use actix_web::http::StatusCode;
use actix_web::web::{Data, Json, Path, Payload};
use actix_web::{HttpRequest, HttpResponse};
use ap_domain::FieldError;
use ap_domain::listing::ListingType;
use ap_domain::version::Version;
use ap_domain::wire::{ArchiveState, VersionCreated};
use serde_json::{Map, Value};

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::query::{RawQuery, param};
use crate::state::AppState;
use crate::upload;

fn now(state: &AppState) -> chrono::NaiveDateTime {
    state.auth().clock().now().naive_utc()
}

async fn create(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    body: Json<Map<String, Value>>,
    forced: Option<ListingType>,
) -> Result<HttpResponse, ApiError> {
    let created =
        state.publisher().create(caller.user_id, body.into_inner(), forced, now(&state)).await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(created))
}

/// `POST /v1/skills`.
pub async fn create_skill(
    state: Data<AppState>,
    caller: Authenticated,
    body: Json<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    create(state, caller, body, None).await
}

/// `POST /v1/agents`.
pub async fn create_agent(
    state: Data<AppState>,
    caller: Authenticated,
    body: Json<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    create(state, caller, body, Some(ListingType::Agent)).await
}

async fn change(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    slug: Path<String>,
    body: Json<Map<String, Value>>,
    forced: Option<ListingType>,
) -> Result<Json<VersionCreated>, ApiError> {
    let changed = state
        .publisher()
        .change(caller.user_id, slug.into_inner(), body.into_inner(), forced, now(&state))
        .await?;
    state.cache().invalidate();
    Ok(Json(changed))
}

/// `PATCH /v1/skills/{slug}`.
pub async fn change_skill(
    state: Data<AppState>,
    caller: Authenticated,
    slug: Path<String>,
    body: Json<Map<String, Value>>,
) -> Result<Json<VersionCreated>, ApiError> {
    change(state, caller, slug, body, None).await
}

/// `PATCH /v1/agents/{slug}`.
pub async fn change_agent(
    state: Data<AppState>,
    caller: Authenticated,
    slug: Path<String>,
    body: Json<Map<String, Value>>,
) -> Result<Json<VersionCreated>, ApiError> {
    change(state, caller, slug, body, Some(ListingType::Agent)).await
}

/// The parsed `?version=`, if any.
fn requested_version(query: &RawQuery) -> Result<Option<Version>, ApiError> {
    match param(query, "version").map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(raw) => Version::parse(raw)
            .map(Some)
            .map_err(|e| FieldError::query("version", "version_format", e.to_string()).into()),
    }
}

async fn upload_archive(
    req: HttpRequest,
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    slug: Path<String>,
    query: RawQuery,
    payload: Payload,
    forced: Option<ListingType>,
) -> Result<HttpResponse, ApiError> {
    upload::check_declared_length(&req)?;
    let requested = requested_version(&query)?;
    let publisher = state.publisher();
    // Who, what and which version are settled before the body is read.
    let target = publisher
        .upload_target(caller.user_id.clone(), slug.into_inner(), forced, requested)
        .await?;
    let received = upload::receive(&req, payload, publisher.blobs().as_ref(), "file", &[]).await?;
    let staged = received
        .file
        .ok_or_else(|| ApiError::from(FieldError::body("file", "missing", "Field required")))?;
    let result = publisher.upload(caller.user_id, target, staged, now(&state)).await?;
    state.cache().invalidate();
    Ok(HttpResponse::build(StatusCode::CREATED).json(result))
}

/// `POST /v1/skills/{slug}/upload[?version=X.Y.Z]`.
pub async fn upload_skill(
    req: HttpRequest,
    state: Data<AppState>,
    caller: Authenticated,
    slug: Path<String>,
    query: RawQuery,
    payload: Payload,
) -> Result<HttpResponse, ApiError> {
    upload_archive(req, state, caller, slug, query, payload, None).await
}

/// `POST /v1/agents/{slug}/upload[?version=X.Y.Z]`.
pub async fn upload_agent(
    req: HttpRequest,
    state: Data<AppState>,
    caller: Authenticated,
    slug: Path<String>,
    query: RawQuery,
    payload: Payload,
) -> Result<HttpResponse, ApiError> {
    upload_archive(req, state, caller, slug, query, payload, Some(ListingType::Agent)).await
}

async fn set_archived(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    slug: Path<String>,
    forced: Option<ListingType>,
    archive: bool,
) -> Result<Json<ArchiveState>, ApiError> {
    let result = state
        .publisher()
        .set_archived(caller.user_id, slug.into_inner(), forced, archive, now(&state))
        .await?;
    state.cache().invalidate();
    Ok(Json(result))
}

/// `POST /v1/skills/{slug}/unpublish`.
pub async fn unpublish_skill(
    state: Data<AppState>,
    caller: Authenticated,
    slug: Path<String>,
) -> Result<Json<ArchiveState>, ApiError> {
    set_archived(state, caller, slug, None, true).await
}

/// `POST /v1/agents/{slug}/unpublish`.
pub async fn unpublish_agent(
    state: Data<AppState>,
    caller: Authenticated,
    slug: Path<String>,
) -> Result<Json<ArchiveState>, ApiError> {
    set_archived(state, caller, slug, Some(ListingType::Agent), true).await
}

/// `POST /v1/skills/{slug}/republish`.
pub async fn republish_skill(
    state: Data<AppState>,
    caller: Authenticated,
    slug: Path<String>,
) -> Result<Json<ArchiveState>, ApiError> {
    set_archived(state, caller, slug, None, false).await
}

/// `POST /v1/agents/{slug}/republish`.
pub async fn republish_agent(
    state: Data<AppState>,
    caller: Authenticated,
    slug: Path<String>,
) -> Result<Json<ArchiveState>, ApiError> {
    set_archived(state, caller, slug, Some(ListingType::Agent), false).await
}
