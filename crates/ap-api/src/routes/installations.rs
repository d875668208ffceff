//! `POST /v1/installations` (docs/API.md, Downloads and Installations): a client reports an install (the rules are in
//! [`ap_market::installations`]).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{Data, Json};
use serde_json::{Map, Value};

use crate::auth::MaybeAuthenticated;
use crate::error::ApiError;
use crate::state::AppState;

/// `POST /v1/installations`.
pub async fn record_installation(
    state: Data<AppState>,
    MaybeAuthenticated(caller): MaybeAuthenticated,
    body: Json<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.map(|c| c.user_id.into());
    let recorded = state.market().installations().record(caller, &body).await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(recorded))
}
