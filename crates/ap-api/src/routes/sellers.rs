//! Sellers: the public pages (`GET /v1/sellers`, `GET /v1/sellers/{slug}`,
//! `GET /v1/sellers/{slug}/skills`; a seller there is a user with at least one live
//! listing) and the caller's own onboarding (`GET /v1/sellers/status`,
//! `POST /v1/sellers/connect`).

use actix_web::HttpResponse;
use actix_web::web::{Bytes, Data, Json, Path};
use ap_domain::FieldError;
use ap_domain::page::{Page, PageRequest};
use ap_domain::wire::{SellerListing, SellerProfile, SellerStatus, SellerSummary};
use serde_json::{Map, Value};

use crate::auth::Authenticated;

use crate::error::ApiError;
use crate::query::{RawQuery, param};
use crate::state::AppState;

/// `GET /v1/sellers`: sellers, most downloaded first.
pub async fn list_sellers(
    state: Data<AppState>,
    query: RawQuery,
) -> Result<Json<Page<SellerSummary>>, ApiError> {
    let page = PageRequest::parse(param(&query, "limit"), param(&query, "offset"))?;
    Ok(Json(state.market().catalog().sellers(page).await?))
}

/// `GET /v1/sellers/{slug}`: a seller's public profile with their live listings.
pub async fn get_seller(
    state: Data<AppState>,
    slug: Path<String>,
) -> Result<Json<SellerProfile>, ApiError> {
    Ok(Json(state.market().catalog().seller(slug.into_inner()).await?))
}

/// `GET /v1/sellers/{slug}/skills`: a page of a seller's live listings with scan results.
pub async fn list_seller_skills(
    state: Data<AppState>,
    slug: Path<String>,
    query: RawQuery,
) -> Result<Json<Page<SellerListing>>, ApiError> {
    let page = PageRequest::parse(param(&query, "limit"), param(&query, "offset"))?;
    Ok(Json(state.market().catalog().seller_listings(slug.into_inner(), page).await?))
}

/// `GET /v1/sellers/status`: the caller's payment account state.
pub async fn get_seller_status(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<SellerStatus>, ApiError> {
    Ok(Json(state.market().sellers().status(caller.user_id.into()).await?))
}

/// `POST /v1/sellers/connect` (201): the caller's connected account and an onboarding
/// link.
pub async fn connect_seller(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    // The body is optional (clients POST without one); when present it is a JSON object.
    let body: Map<String, Value> = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        serde_json::from_slice(&body).map_err(|_| {
            ApiError::field(FieldError::body("", "json_invalid", "Body should be a JSON object"))
        })?
    };
    let started = state.market().sellers().connect(caller.user_id.into(), &body).await?;
    Ok(HttpResponse::Created().json(started))
}
