//! Administration (docs/API.md, Administration): `/v1/admin/…`, signed in and holding the
//! admin role (403 without it), on its own rate tier. The rules are in
//! [`ap_market::admin`].

use actix_web::web::{Data, Json, Path};
use ap_domain::page::{Page, PageRequest};
use ap_domain::wire::{AbuseReport, AuditEntry};
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

/// The body of `POST /v1/admin/reports/{id}/close`.
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
