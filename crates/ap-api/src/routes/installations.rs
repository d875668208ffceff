//! `POST /v1/installations` (docs/API.md, Downloads and Installations): a client reports an install (the rules are in
//! [`ap_market::installations`]).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{Data, Json};
use ap_domain::wire::InstallationRecorded;
use serde_json::{Map, Value};

use crate::auth::MaybeAuthenticated;
use crate::error::ApiError;
use crate::openapi::ErrorBody;
use crate::state::AppState;

/// The body of `POST /v1/installations` (read field by field; unknown fields are refused,
/// every bad field is reported at once).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Describes a body the handler reads field by field.
pub struct NewInstallationBody {
    /// The installed listing's slug; for `agentpowers` it must name a listing that has had
    /// a live version (unpublished ones count).
    #[schema(min_length = 1, max_length = 200)]
    source_slug: String,
    /// The installing host's name (lowercased to identify an anonymous installer).
    #[schema(min_length = 1, max_length = 255)]
    hostname: String,
    /// `code`, `cowork`, `web`, `cli` or `mcp` (any case; answered in lowercase).
    #[schema(min_length = 1, max_length = 64)]
    platform: String,
    /// `agentpowers` (the default) or `clawhub` (any case; answered in lowercase).
    /// Anonymous installs of `clawhub` listings are accepted and not stored.
    #[schema(min_length = 1, max_length = 64)]
    source: Option<String>,
}

/// `POST /v1/installations`.
#[utoipa::path(
    post,
    path = "/v1/installations",
    tag = "installations",
    request_body(
        content = NewInstallationBody,
        content_type = "application/json",
        description = "The install to record, once per (source, slug, installer): the user \
                       when a token is sent, else the host name"
    ),
    responses(
        (
            status = 201,
            description = "The install is recorded (a repeat answers the first record's id and \
                           counts nothing again)",
            body = InstallationRecorded
        ),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    ),
    security((), ("bearer" = [])),
)]
pub async fn record_installation(
    state: Data<AppState>,
    MaybeAuthenticated(caller): MaybeAuthenticated,
    body: Json<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.map(|c| c.user_id.into());
    let recorded = state.market().installations().record(caller, &body).await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(recorded))
}
