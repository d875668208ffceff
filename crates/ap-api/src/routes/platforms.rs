//! `GET /v1/platforms`: supported install targets.

use actix_web::web::Json;
use ap_domain::platform;
use ap_domain::wire::PlatformsResponse;

/// Every install target the clients support.
pub async fn list_platforms() -> Json<PlatformsResponse> {
    let platforms = platform::all();
    Json(PlatformsResponse { total: platforms.len(), platforms })
}
