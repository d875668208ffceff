//! Administration (docs/API.md, Administration): `/v1/admin/…`, signed in and holding the
//! admin role (403 without it), on its own rate tier. The rules are in
//! [`ap_market::admin`].

use actix_web::HttpResponse;
use actix_web::web::{Data, Json, Path};
use ap_domain::page::{Page, PageRequest};
use ap_domain::wire::{AbuseReport, AuditEntry, Rescan};
use ap_domain::{FieldError, FieldErrors};
use serde_json::{Map, Value};

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::openapi::{ErrorBody, PageQuery};
use crate::query::{RawQuery, param};
use crate::state::AppState;

/// `GET /v1/admin/audit?limit=&offset=`: the audit log, newest first.
#[utoipa::path(
    method(get, head),
    path = "/v1/admin/audit",
    tag = "admin",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of the audit log, newest first: every \
            administrative action with its actor, target and reason", body = Page<AuditEntry>),
        (status = "default", description = "An error in the contract's envelope (401 signed \
            out, 403 `FORBIDDEN` without the admin role)", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn list_audit(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    query: RawQuery,
) -> Result<Json<Page<AuditEntry>>, ApiError> {
    let page = PageRequest::parse(param(&query, "limit"), param(&query, "offset"))?;
    Ok(Json(state.market().admin().audit(caller.user_id.into(), page).await?))
}

/// `GET /v1/admin/reports?status=&limit=&offset=`: the abuse reports, oldest first.
#[utoipa::path(
    method(get, head),
    path = "/v1/admin/reports",
    tag = "admin",
    params(
        ("status" = Option<String>, Query, pattern = "^(open|closed)$",
            description = "`open` (the default: the queue) or `closed`"),
        PageQuery,
    ),
    responses(
        (status = 200, description = "A page of abuse reports, oldest first",
            body = Page<AbuseReport>),
        (status = "default", description = "An error in the contract's envelope (401 signed \
            out, 403 `FORBIDDEN` without the admin role)", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn list_reports(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    query: RawQuery,
) -> Result<Json<Page<AbuseReport>>, ApiError> {
    let page = PageRequest::parse(param(&query, "limit"), param(&query, "offset"));
    let status = match param(&query, "status") {
        None | Some("open") => Ok(true),
        Some("closed") => Ok(false),
        Some(_) => Err(FieldError::query("status", "enum", "Input should be 'open' or 'closed'")),
    };
    let (open, page) = match (status, page) {
        (Ok(open), Ok(page)) => (open, page),
        (status, page) => {
            let mut errors: FieldErrors = page.err().unwrap_or_default();
            if let Err(error) = status {
                errors.push(error);
            }
            return Err(errors.into());
        }
    };
    Ok(Json(state.market().admin().reports(caller.user_id.into(), open, page).await?))
}

/// The body of an administrator's action (`POST /v1/admin/…`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Describes a body the handler reads field by field.
pub struct ActionBody {
    /// Why (1–500 characters; recorded in the audit log).
    #[schema(min_length = 1, max_length = 500)]
    reason: String,
}

/// `POST /v1/admin/reports/{id}/close`: closes an open report, with a reason.
#[utoipa::path(
    post,
    path = "/v1/admin/reports/{id}/close",
    tag = "admin",
    params(("id" = String, Path, description = "The report's id")),
    request_body(content = ActionBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The closed report", body = AbuseReport),
        (status = "default", description = "An error in the contract's envelope (404 \
            `NOT_FOUND`, 409 `CONFLICT` when it is closed already)", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn close_report(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    id: Path<String>,
    body: Json<Map<String, Value>>,
) -> Result<Json<AbuseReport>, ApiError> {
    let admin = state.market().admin();
    Ok(Json(admin.close_report(caller.user_id.into(), id.into_inner(), &body).await?))
}

/// The body of `POST /v1/admin/listings/{slug}/quarantine` and `…/release`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Describes a body the handler reads field by field.
pub struct QuarantineBody {
    /// Why (1–500 characters; recorded in the audit log).
    #[schema(min_length = 1, max_length = 500)]
    reason: String,
    /// One version (e.g. `1.2.0`); without it, the whole listing.
    version: Option<String>,
}

/// `POST /v1/admin/listings/{slug}/quarantine`: withdraws a version, or the whole
/// listing: never linked again, links issued before stop, out of the catalog and search
/// (the listing serves its newest version left), buyers told on their purchases list.
#[utoipa::path(
    post,
    path = "/v1/admin/listings/{slug}/quarantine",
    tag = "admin",
    params(("slug" = String, Path, description = "The listing's slug")),
    request_body(content = QuarantineBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The audit entry recorded", body = AuditEntry),
        (status = "default", description = "An error in the contract's envelope (404 \
            `SKILL_NOT_FOUND` or `NOT_FOUND` for the version, 409 `CONFLICT` when it is \
            quarantined already)", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn quarantine(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    slug: Path<String>,
    body: Json<Map<String, Value>>,
) -> Result<Json<AuditEntry>, ApiError> {
    let admin = state.market().admin();
    Ok(Json(admin.set_quarantine(caller.user_id.into(), slug.into_inner(), &body, true).await?))
}

/// `POST /v1/admin/listings/{slug}/release`: ends a quarantine of a version or listing.
#[utoipa::path(
    post,
    path = "/v1/admin/listings/{slug}/release",
    tag = "admin",
    params(("slug" = String, Path, description = "The listing's slug")),
    request_body(content = QuarantineBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The audit entry recorded", body = AuditEntry),
        (status = "default", description = "An error in the contract's envelope (404, 409 \
            `CONFLICT` when it is not quarantined)", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn release(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    slug: Path<String>,
    body: Json<Map<String, Value>>,
) -> Result<Json<AuditEntry>, ApiError> {
    let admin = state.market().admin();
    Ok(Json(admin.set_quarantine(caller.user_id.into(), slug.into_inner(), &body, false).await?))
}

/// `POST /v1/admin/users/{id}/suspend`: the account's listings leave the catalog, its
/// CLI tokens are revoked, it cannot sign in, and its payouts are paused.
#[utoipa::path(
    post,
    path = "/v1/admin/users/{id}/suspend",
    tag = "admin",
    params(("id" = String, Path, description = "The user's id")),
    request_body(content = ActionBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The audit entry recorded", body = AuditEntry),
        (status = "default", description = "An error in the contract's envelope (404 \
            `NOT_FOUND`, 409 `CONFLICT` when the account is not active, 403 for one's own, \
            502/503 when the payment provider fails: nothing changed)", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn suspend(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    id: Path<String>,
    body: Json<Map<String, Value>>,
) -> Result<Json<AuditEntry>, ApiError> {
    let admin = state.market().admin();
    let entry = admin.set_suspended(caller.user_id.into(), id.into_inner(), &body, true).await?;
    state.auth().forget_cached_tokens();
    Ok(Json(entry))
}

/// `POST /v1/admin/users/{id}/reinstate`: ends a suspension (the person signs in again).
#[utoipa::path(
    post,
    path = "/v1/admin/users/{id}/reinstate",
    tag = "admin",
    params(("id" = String, Path, description = "The user's id")),
    request_body(content = ActionBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The audit entry recorded", body = AuditEntry),
        (status = "default", description = "An error in the contract's envelope (404, 409 \
            `CONFLICT` when the account is not suspended)", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn reinstate(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    id: Path<String>,
    body: Json<Map<String, Value>>,
) -> Result<Json<AuditEntry>, ApiError> {
    let admin = state.market().admin();
    Ok(Json(admin.set_suspended(caller.user_id.into(), id.into_inner(), &body, false).await?))
}

/// `POST /v1/admin/purchases/{id}/refund`: refunds the payment in full through the payment
/// provider; the buyer loses access and the seller's figures move, as with a refund made
/// in Stripe.
#[utoipa::path(
    post,
    path = "/v1/admin/purchases/{id}/refund",
    tag = "admin",
    params(("id" = String, Path, description = "The purchase's id")),
    request_body(content = ActionBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The audit entry recorded", body = AuditEntry),
        (status = "default", description = "An error in the contract's envelope (404 \
            `NOT_FOUND`, 409 `PURCHASE_REFUNDED`, 409 `CONFLICT` when nothing was paid, \
            502/503 when the payment provider fails: nothing changed)", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn refund(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    id: Path<String>,
    body: Json<Map<String, Value>>,
) -> Result<Json<AuditEntry>, ApiError> {
    let admin = state.market().admin();
    Ok(Json(admin.refund(caller.user_id.into(), id.into_inner(), &body).await?))
}

/// `POST /v1/admin/rescans`: runs the scan rules in force over every live version in the
/// background; answers the job as it starts.
#[utoipa::path(
    post,
    path = "/v1/admin/rescans",
    tag = "admin",
    request_body(content = ActionBody, content_type = "application/json"),
    responses(
        (status = 202, description = "The job, started", body = Rescan),
        (status = "default", description = "An error in the contract's envelope (409 \
            `CONFLICT` while another rescan runs)", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn start_rescan(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    body: Json<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    let job = state.market().admin().start_rescan(caller.user_id.into(), &body).await?;
    Ok(HttpResponse::Accepted().json(job))
}

/// `GET /v1/admin/rescans/{id}`: a rescan's progress and each verdict it changed.
#[utoipa::path(
    method(get, head),
    path = "/v1/admin/rescans/{id}",
    tag = "admin",
    params(("id" = String, Path, description = "The job's id")),
    responses(
        (status = 200, description = "The job", body = Rescan),
        (status = "default", description = "An error in the contract's envelope (404 \
            `NOT_FOUND`)", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn rescan(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    id: Path<String>,
) -> Result<Json<Rescan>, ApiError> {
    Ok(Json(state.market().admin().rescan(caller.user_id.into(), id.into_inner()).await?))
}
