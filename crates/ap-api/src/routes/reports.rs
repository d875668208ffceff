//! `POST /v1/skills/{slug}/report` (and the agents twin): a signed-in user reports a
//! listing. The rules are in [`ap_market::reports`]; the queue is under `/v1/admin/`.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{Data, Json, Path};
use ap_domain::wire::AbuseReport;
use serde_json::{Map, Value};

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::kind::Kind;
use crate::openapi::ErrorBody;
use crate::state::AppState;

/// The body of `POST /v1/skills/{slug}/report` (read field by field; unknown fields are
/// refused, every bad field is reported at once).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Describes a body the handler reads field by field.
pub struct ReportBody {
    /// Why: `malware`, `prompt_injection`, `credential_theft`, `copyright`, `spam`,
    /// `misleading` or `other`.
    reason: String,
    /// An optional note for the administrators (at most 2,000 characters after hidden
    /// characters are removed; scanned for prompt injection like a review).
    #[schema(max_length = 2000)]
    text: Option<String>,
}

/// `POST /v1/skills/{slug}/report`: files the caller's report on a live listing.
#[utoipa::path(
    post,
    path = "/v1/skills/{slug}/report",
    tag = "reports",
    params(("slug" = String, Path, description = "The listing's slug")),
    request_body(content = ReportBody, content_type = "application/json"),
    responses(
        (status = 201, description = "The report, open until an administrator closes it",
            body = AbuseReport),
        (status = "default", description = "An error in the contract's envelope (404 \
            `SKILL_NOT_FOUND`, 403 `OWN_SKILL`, 409 `CONFLICT` while the caller's earlier \
            report is open, 422 `REPORT_TEXT_REJECTED`)", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn file_report(
    state: Data<AppState>,
    Kind(forced): Kind,
    Authenticated(caller): Authenticated,
    slug: Path<String>,
    body: Json<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    let report = state
        .market()
        .reports()
        .file(caller.user_id.into(), slug.into_inner(), forced, &body)
        .await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(report))
}
