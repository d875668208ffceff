//! `GET /health`: liveness, never rate-limited, no database access; `GET /ready`:
//! readiness, whether the database answers.

use actix_web::HttpResponse;
use actix_web::web::Data;
use ap_domain::wire::Health;

use crate::error::ApiError;
use crate::state::AppState;

/// Answers `{"status": "ok", "version": "<crate version>"}`.
pub async fn get_health() -> HttpResponse {
    HttpResponse::Ok()
        .json(Health { status: "ok".to_owned(), version: env!("CARGO_PKG_VERSION").to_owned() })
}

/// Answers `{"status": "ready", "version"}` when the database answers within the pool's
/// acquire timeout, else 503 `SERVICE_UNAVAILABLE` (a load balancer then sends traffic
/// elsewhere while the process stays alive).
pub async fn get_ready(state: Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.market().store_answers().await?;
    Ok(HttpResponse::Ok()
        .json(Health { status: "ready".to_owned(), version: env!("CARGO_PKG_VERSION").to_owned() }))
}
