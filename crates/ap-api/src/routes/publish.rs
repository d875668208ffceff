//! Publishing routes (docs/API.md, Publishing), mounted under `/v1/skills` and `/v1/agents` (type
//! forced to `agent`): create, `PATCH` a new version, upload, unpublish, republish. The
//! work is in [`ap_market::publishing::Publisher`].

use actix_web::http::StatusCode;
use actix_web::web::{Data, Json, Path, Payload};
use actix_web::{HttpRequest, HttpResponse};
use ap_domain::FieldError;
use ap_domain::listing::ListingType;
use ap_domain::version::Version;
use ap_domain::wire::{ArchiveState, ListingCreated, UploadResult, VersionCreated};
use serde_json::{Map, Value};

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::kind::Kind;
use crate::openapi::ErrorBody;
use crate::query::{RawQuery, param};
use crate::state::AppState;
use crate::upload;

/// The body of `POST /v1/skills` (read field by field by the publisher; unknown fields
/// are refused, every bad field is reported at once).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Describes a body the handler reads field by field.
pub struct NewListingBody {
    /// The listing's slug: 3–60 characters of `a-z`, `0-9` and inner hyphens. An existing
    /// slug (of any type or state) answers 409 `SLUG_TAKEN` before anything else is checked.
    #[schema(min_length = 3, max_length = 60, pattern = "^[a-z0-9][a-z0-9-]{1,58}[a-z0-9]$")]
    slug: String,
    /// `skill` or `agent` (default `skill`); forced to `agent` on `POST /v1/agents`.
    r#type: Option<ListingType>,
    /// The title, 3–100 characters.
    #[schema(min_length = 3, max_length = 100)]
    title: String,
    /// One paragraph, 10–2,000 characters.
    #[schema(min_length = 10, max_length = 2000)]
    description: String,
    /// A category slug from `GET /v1/categories`.
    category: String,
    /// The price in cents: 0 (free, the default) or 300–100,000; a price above 0 needs
    /// the seller's payouts enabled (403 `SELLER_ONBOARDING_REQUIRED`).
    #[schema(minimum = 0, maximum = 100000)]
    price_cents: Option<i64>,
    /// Markdown, at most 20,000 characters (default `""`).
    #[schema(max_length = 20000)]
    long_description: Option<String>,
}

/// `POST /v1/skills`, `POST /v1/agents`.
#[utoipa::path(
    post,
    path = "/v1/skills",
    tag = "publishing",
    request_body(
        content = NewListingBody,
        content_type = "application/json",
        description = "The new listing; it stays invisible (except to its owner) until an \
                       uploaded version passes the scan"
    ),
    responses(
        (
            status = 201,
            description = "The listing exists, waiting for its first upload",
            body = ListingCreated
        ),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
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

/// The body of `PATCH /v1/skills/{slug}` (read field by field by the publisher; fields
/// sent as null count as absent; exactly one of `bump` and `version` is required).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Describes a body the handler reads field by field.
pub struct ListingChangesBody {
    /// `patch`, `minor` or `major` (any case), counted from the greatest version the
    /// listing has had (live or blocked); `1.0.0` when it has none.
    bump: Option<String>,
    /// An exact `X.Y.Z` (decimal, no leading zeros), greater than the live version; the
    /// number of a blocked version reopens it.
    #[schema(pattern = "^(0|[1-9][0-9]*)[.](0|[1-9][0-9]*)[.](0|[1-9][0-9]*)$")]
    version: Option<String>,
    /// What changed in this version, at most 5,000 characters.
    #[schema(max_length = 5000)]
    changelog: Option<String>,
    /// A new title, 3–100 characters.
    #[schema(min_length = 3, max_length = 100)]
    title: Option<String>,
    /// A new description, 10–2,000 characters.
    #[schema(min_length = 10, max_length = 2000)]
    description: Option<String>,
    /// A new category slug from `GET /v1/categories`.
    category: Option<String>,
    /// A new price in cents: 0 (free) or 300–100,000.
    #[schema(minimum = 0, maximum = 100000)]
    price_cents: Option<i64>,
    /// A new long description, Markdown, at most 20,000 characters.
    #[schema(max_length = 20000)]
    long_description: Option<String>,
}

/// `PATCH /v1/skills/{slug}`, `PATCH /v1/agents/{slug}`.
#[utoipa::path(
    patch,
    path = "/v1/skills/{slug}",
    tag = "publishing",
    params(
        ("slug" = String, Path, description = "The listing's slug"),
    ),
    request_body(
        content = ListingChangesBody,
        content_type = "application/json",
        description = "The next version (`bump` or `version`) and any listing field changes"
    ),
    responses(
        (status = 200, description = "A new version waits for its upload", body = VersionCreated),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
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

/// The `multipart/form-data` body of `POST /v1/skills/{slug}/upload`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Describes a multipart body the handler streams part by part.
pub struct ArchiveUploadForm {
    /// The package as a ZIP, at most 10 MB (exactly one such part). A skill has `SKILL.md`
    /// at its root, an agent one `.md` file; both need YAML frontmatter with `name` and
    /// `description`.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// `POST /v1/skills/{slug}/upload[?version=X.Y.Z]` (and the agents twin): who, what and
/// which version are settled before the body is read; then the archive is staged,
/// scanned and recorded.
#[utoipa::path(
    post,
    path = "/v1/skills/{slug}/upload",
    tag = "publishing",
    params(
        ("slug" = String, Path, description = "The listing's slug"),
        ("version" = Option<String>, Query,
            pattern = "^(0|[1-9][0-9]*)[.](0|[1-9][0-9]*)[.](0|[1-9][0-9]*)$",
            description = "The version the archive becomes (`X.Y.Z`); default the pending \
                           version, else `1.0.0` when no version ever went live"),
    ),
    request_body(
        content = ArchiveUploadForm,
        content_type = "multipart/form-data",
        description = "One file part `file`: the package ZIP, at most 10 MB"
    ),
    responses(
        (
            status = 201,
            description = "The archive was scanned and recorded: live on `pass` or `warn`, \
                           recorded as blocked (still 201, with its findings) on `block`",
            body = UploadResult
        ),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
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
#[utoipa::path(
    post,
    path = "/v1/skills/{slug}/unpublish",
    tag = "publishing",
    params(
        ("slug" = String, Path, description = "The listing's slug (the caller's own)"),
    ),
    responses(
        (
            status = 200,
            description = "The listing is unpublished: out of lists, search and anonymous \
                           downloads; its owner and buyers keep it",
            body = ArchiveState
        ),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
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
#[utoipa::path(
    post,
    path = "/v1/skills/{slug}/republish",
    tag = "publishing",
    params(
        ("slug" = String, Path, description = "The listing's slug (the caller's own)"),
    ),
    responses(
        (status = 200, description = "The listing is restored", body = ArchiveState),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn republish_listing(
    state: Data<AppState>,
    Kind(forced): Kind,
    Authenticated(caller): Authenticated,
    slug: Path<String>,
) -> Result<Json<ArchiveState>, ApiError> {
    let publisher = state.market().publisher();
    Ok(Json(publisher.set_archived(caller.user_id.into(), slug.into_inner(), forced, false).await?))
}
