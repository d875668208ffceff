//! Public seller pages: `GET /v1/sellers`, `GET /v1/sellers/{slug}`,
//! `GET /v1/sellers/{slug}/skills`. A seller is a user with at least one live listing.

use actix_web::web::{Data, Json, Path};
use ap_domain::page::{Page, PageRequest};
use ap_domain::wire::{SellerListing, SellerProfile, SellerSummary};

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
