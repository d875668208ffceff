//! `GET /health`: liveness, never rate-limited, no database access.

use actix_web::HttpResponse;
use ap_domain::wire::Health;

/// Answers `{"status": "ok", "version": "<crate version>"}`.
pub async fn get_health() -> HttpResponse {
    HttpResponse::Ok()
        .json(Health { status: "ok".to_owned(), version: env!("CARGO_PKG_VERSION").to_owned() })
}
