//! `GET /health`: liveness, never rate-limited, no database access; `GET /ready`:
//! readiness, whether the database answers.

use actix_web::HttpResponse;
use actix_web::web::Data;
use ap_domain::wire::Health;

use crate::error::ApiError;
use crate::openapi::ErrorBody;
use crate::state::AppState;

/// Answers `{"status": "ok", "version": "<crate version>"}`.
#[utoipa::path(
    method(get, head),
    path = "/health",
    tag = "health",
    responses(
        (status = 200, description = "The process answers", body = Health),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    )
)]
pub async fn get_health() -> HttpResponse {
    HttpResponse::Ok()
        .json(Health { status: "ok".to_owned(), version: env!("CARGO_PKG_VERSION").to_owned() })
}

/// Answers `{"status": "ready", "version"}` when the database answers within the pool's
/// acquire timeout, else 503 `SERVICE_UNAVAILABLE` (a load balancer then sends traffic
/// elsewhere while the process stays alive).
#[utoipa::path(
    method(get, head),
    path = "/ready",
    tag = "health",
    responses(
        (status = 200, description = "The process and its database answer", body = Health),
        (status = "default", body = ErrorBody,
            description = "An error in the contract's envelope (503 while the database does not answer)"),
    )
)]
pub async fn get_ready(state: Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.market().store_answers().await?;
    Ok(HttpResponse::Ok()
        .json(Health { status: "ready".to_owned(), version: env!("CARGO_PKG_VERSION").to_owned() }))
}
