//! Sellers: the public pages (`GET /v1/sellers`, `GET /v1/sellers/{slug}`,
//! `GET /v1/sellers/{slug}/skills`; a seller there is a user with at least one live
//! listing) and the caller's own: onboarding (`GET /v1/sellers/status`,
//! `POST /v1/sellers/connect`) and figures (`skills`, `earnings`, `sales`, `revenue`,
//! `revenue/breakdown`, `activity`, `next-payout`), computed in
//! [`ap_market::sellers`].

use actix_web::HttpResponse;
use actix_web::web::{Bytes, Data, Json, Path};
use ap_domain::FieldError;
use ap_domain::analytics::{DateRange, Period};
use ap_domain::page::{Page, PageRequest};
use ap_domain::wire::{
    Activity, Earnings, NextPayout, OwnListing, Revenue, RevenueBreakdown, Sale, SellerListing,
    SellerProfile, SellerStatus, SellerSummary,
};
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

/// The `from`/`to` range of a figure (at most two years).
fn range(
    state: &AppState,
    query: &RawQuery,
    default_days: i64,
) -> Result<DateRange, ap_domain::FieldErrors> {
    let today = state.market().sellers().today_utc();
    DateRange::parse(param(query, "from"), param(query, "to"), today, default_days)
}

/// `GET /v1/sellers/skills`: the caller's listings in every state, with their figures.
pub async fn list_own_listings(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    query: RawQuery,
) -> Result<Json<Page<OwnListing>>, ApiError> {
    let page = PageRequest::parse(param(&query, "limit"), param(&query, "offset"))?;
    Ok(Json(state.market().sellers().listings(caller.user_id.into(), page).await?))
}

/// `GET /v1/sellers/earnings`.
pub async fn get_earnings(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Earnings>, ApiError> {
    Ok(Json(state.market().sellers().earnings(caller.user_id.into()).await?))
}

/// `GET /v1/sellers/next-payout`.
pub async fn get_next_payout(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<NextPayout>, ApiError> {
    Ok(Json(state.market().sellers().next_payout(caller.user_id.into()).await?))
}

/// `GET /v1/sellers/sales?from=&to=&skill=&limit=&offset=`.
pub async fn list_sales(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    query: RawQuery,
) -> Result<Json<Page<Sale>>, ApiError> {
    let (range, page) = match (
        range(&state, &query, 29),
        PageRequest::parse(param(&query, "limit"), param(&query, "offset")),
    ) {
        (Ok(range), Ok(page)) => (range, page),
        (range, page) => {
            let mut errors = range.err().unwrap_or_default();
            errors.0.extend(page.err().unwrap_or_default().0);
            return Err(errors.into());
        }
    };
    let skill = param(&query, "skill").map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let sellers = state.market().sellers();
    Ok(Json(sellers.sales(caller.user_id.into(), range, skill, page).await?))
}

/// `GET /v1/sellers/revenue?period=day|week|month&from=&to=`.
pub async fn get_revenue(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    query: RawQuery,
) -> Result<Json<Revenue>, ApiError> {
    let period = match param(&query, "period").map(str::trim).filter(|p| !p.is_empty()) {
        None => Period::Day,
        Some(raw) => Period::parse(&raw.to_ascii_lowercase()).ok_or_else(|| {
            ApiError::field(FieldError::query(
                "period",
                "enum",
                "Input should be one of: day, week, month",
            ))
        })?,
    };
    let range = range(&state, &query, period.default_days())?;
    Ok(Json(state.market().sellers().revenue(caller.user_id.into(), period, range).await?))
}

/// `GET /v1/sellers/revenue/breakdown?from=&to=`.
pub async fn get_revenue_breakdown(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    query: RawQuery,
) -> Result<Json<RevenueBreakdown>, ApiError> {
    let range = range(&state, &query, 29)?;
    Ok(Json(state.market().sellers().breakdown(caller.user_id.into(), range).await?))
}

/// `GET /v1/sellers/activity?limit=&offset=`: newest first.
pub async fn list_activity(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    query: RawQuery,
) -> Result<Json<Page<Activity>>, ApiError> {
    let page = PageRequest::parse(param(&query, "limit"), param(&query, "offset"))?;
    Ok(Json(state.market().sellers().activity(caller.user_id.into(), page).await?))
}
