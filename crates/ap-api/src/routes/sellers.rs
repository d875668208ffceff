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
    Activity, Earnings, NextPayout, OnboardingStarted, OwnListing, Revenue, RevenueBreakdown, Sale,
    SellerListing, SellerProfile, SellerStatus, SellerSummary,
};
use serde_json::{Map, Value};

use crate::auth::Authenticated;

use crate::error::ApiError;
use crate::openapi::{DateRangeQuery, ErrorBody, PageQuery};
use crate::query::{RawQuery, param};
use crate::state::AppState;

/// `GET /v1/sellers`: sellers, most downloaded first.
#[utoipa::path(
    method(get, head),
    path = "/v1/sellers",
    tag = "sellers",
    params(
        PageQuery,
    ),
    responses(
        (status = 200, description = "A page of sellers (users with at least one live \
            listing), most downloaded first", body = Page<SellerSummary>),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    ),
    security((), ("bearer" = [])),
)]
pub async fn list_sellers(
    state: Data<AppState>,
    query: RawQuery,
) -> Result<Json<Page<SellerSummary>>, ApiError> {
    let page = PageRequest::parse(param(&query, "limit"), param(&query, "offset"))?;
    Ok(Json(state.market().catalog().sellers(page).await?))
}

/// `GET /v1/sellers/{slug}`: a seller's public profile with their live listings.
#[utoipa::path(
    method(get, head),
    path = "/v1/sellers/{slug}",
    tag = "sellers",
    params(
        ("slug" = String, Path, description = "The seller's `display_name_slug`"),
    ),
    responses(
        (status = 200, description = "The seller's public profile with up to 100 live \
            listings, most popular first", body = SellerProfile),
        (status = "default", description = "An error in the contract's envelope (404 \
            `SELLER_NOT_FOUND` for an unknown slug or a user without a live listing)",
            body = ErrorBody),
    ),
    security((), ("bearer" = [])),
)]
pub async fn get_seller(
    state: Data<AppState>,
    slug: Path<String>,
) -> Result<Json<SellerProfile>, ApiError> {
    Ok(Json(state.market().catalog().seller(slug.into_inner()).await?))
}

/// `GET /v1/sellers/{slug}/skills`: a page of a seller's live listings with scan results.
#[utoipa::path(
    method(get, head),
    path = "/v1/sellers/{slug}/skills",
    tag = "sellers",
    params(
        ("slug" = String, Path, description = "The seller's `display_name_slug`"),
        PageQuery,
    ),
    responses(
        (status = 200, description = "A page of the seller's live listings, most popular \
            first, each with the live version's scan findings and score",
            body = Page<SellerListing>),
        (status = "default", description = "An error in the contract's envelope (404 \
            `SELLER_NOT_FOUND`)", body = ErrorBody),
    ),
    security((), ("bearer" = [])),
)]
pub async fn list_seller_skills(
    state: Data<AppState>,
    slug: Path<String>,
    query: RawQuery,
) -> Result<Json<Page<SellerListing>>, ApiError> {
    let page = PageRequest::parse(param(&query, "limit"), param(&query, "offset"))?;
    Ok(Json(state.market().catalog().seller_listings(slug.into_inner(), page).await?))
}

/// `GET /v1/sellers/status`: the caller's payment account state.
#[utoipa::path(
    method(get, head),
    path = "/v1/sellers/status",
    tag = "onboarding",
    responses(
        (status = 200, description = "The caller's payment account state (refreshed from the \
            provider first while any flag is off)", body = SellerStatus),
        (status = "default", description = "An error in the contract's envelope (401 \
            `UNAUTHORIZED` without a token)", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn get_seller_status(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<SellerStatus>, ApiError> {
    Ok(Json(state.market().sellers().status(caller.user_id.into()).await?))
}

/// The body of `POST /v1/sellers/connect`: optional (no body, or an empty one, is
/// accepted); when present a JSON object with any of these fields (unknown fields are
/// refused, every bad field is reported at once).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Describes a body the handler reads field by field.
pub struct SellerConnectBody {
    /// Where the provider sends the seller after the onboarding form: an allowed redirect
    /// URL (an absolute `http` or `https` URL of at most 2,000 bytes, without user name or
    /// password, on this server's origin, a loopback host or a configured redirect
    /// origin); default `{public_url}/onboarding/done`. An empty string counts as absent.
    #[schema(max_length = 2000)]
    return_url: Option<String>,
    /// Where an expired onboarding link leads: an allowed redirect URL, as `return_url`;
    /// default `{public_url}/onboarding`.
    #[schema(max_length = 2000)]
    refresh_url: Option<String>,
}

/// `POST /v1/sellers/connect` (201): the caller's connected account and an onboarding
/// link.
#[utoipa::path(
    post,
    path = "/v1/sellers/connect",
    tag = "onboarding",
    request_body(
        content = Option<SellerConnectBody>,
        content_type = "application/json",
        description = "Optional: no body (`Content-Length: 0`, no `Content-Type`), or a JSON \
                       object with the redirect URLs"
    ),
    responses(
        (status = 201, description = "The caller's connected account exists (created on the \
            first call) and a fresh onboarding link for it", body = OnboardingStarted),
        (status = "default", description = "An error in the contract's envelope (401 \
            `UNAUTHORIZED` without a token)", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
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
#[utoipa::path(
    method(get, head),
    path = "/v1/sellers/skills",
    tag = "seller-figures",
    params(
        PageQuery,
    ),
    responses(
        (status = 200, description = "A page of the caller's listings, skills and agents, in \
            every state, most recently created first, with their figures over all time",
            body = Page<OwnListing>),
        (status = "default", description = "An error in the contract's envelope (401 \
            `UNAUTHORIZED` without a token)", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn list_own_listings(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    query: RawQuery,
) -> Result<Json<Page<OwnListing>>, ApiError> {
    let page = PageRequest::parse(param(&query, "limit"), param(&query, "offset"))?;
    Ok(Json(state.market().sellers().listings(caller.user_id.into(), page).await?))
}

/// `GET /v1/sellers/earnings`.
#[utoipa::path(
    method(get, head),
    path = "/v1/sellers/earnings",
    tag = "seller-figures",
    responses(
        (status = 200, description = "The caller's totals over every sale, with the pending \
            and available payout amounts", body = Earnings),
        (status = "default", description = "An error in the contract's envelope (401 \
            `UNAUTHORIZED` without a token)", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn get_earnings(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Earnings>, ApiError> {
    Ok(Json(state.market().sellers().earnings(caller.user_id.into()).await?))
}

/// `GET /v1/sellers/next-payout`.
#[utoipa::path(
    method(get, head),
    path = "/v1/sellers/next-payout",
    tag = "seller-figures",
    responses(
        (status = 200, description = "The caller's next payout: its expected day and amount",
            body = NextPayout),
        (status = "default", description = "An error in the contract's envelope (401 \
            `UNAUTHORIZED` without a token)", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn get_next_payout(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<NextPayout>, ApiError> {
    Ok(Json(state.market().sellers().next_payout(caller.user_id.into()).await?))
}

/// `GET /v1/sellers/sales?from=&to=&skill=&limit=&offset=`.
#[utoipa::path(
    method(get, head),
    path = "/v1/sellers/sales",
    tag = "seller-figures",
    params(
        DateRangeQuery,
        ("skill" = Option<String>, Query,
            description = "Only the sales of this one of the caller's listings (any state); a \
                           slug naming none of them answers an empty page"),
        PageQuery,
    ),
    responses(
        (status = 200, description = "A page of the caller's sales in the range (default the \
            last 30 days), newest first; a refunded sale stays under the day it was paid, with \
            status `refunded`", body = Page<Sale>),
        (status = "default", description = "An error in the contract's envelope (401 \
            `UNAUTHORIZED` without a token)", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
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
#[utoipa::path(
    method(get, head),
    path = "/v1/sellers/revenue",
    tag = "seller-figures",
    params(
        ("period" = Option<String>, Query,
            description = "`day` (the default), `week` (Monday to Sunday) or `month`, any case; \
                           a bad value is a 422 reported alone, before the range is checked"),
        DateRangeQuery,
    ),
    responses(
        (status = 200, description = "One point per period touching the range (default the \
            last 30 days for `day`, 84 for `week`, 366 for `month`), oldest first, periods \
            without sales as zeros, and the range's totals", body = Revenue),
        (status = "default", description = "An error in the contract's envelope (401 \
            `UNAUTHORIZED` without a token)", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
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
#[utoipa::path(
    method(get, head),
    path = "/v1/sellers/revenue/breakdown",
    tag = "seller-figures",
    params(
        DateRangeQuery,
    ),
    responses(
        (status = 200, description = "One item per listing with a sale in the range (default \
            the last 30 days; unpublished listings included), the most net first, ties by \
            slug; not paginated", body = RevenueBreakdown),
        (status = "default", description = "An error in the contract's envelope (401 \
            `UNAUTHORIZED` without a token)", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn get_revenue_breakdown(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    query: RawQuery,
) -> Result<Json<RevenueBreakdown>, ApiError> {
    let range = range(&state, &query, 29)?;
    Ok(Json(state.market().sellers().breakdown(caller.user_id.into(), range).await?))
}

/// `GET /v1/sellers/activity?limit=&offset=`: newest first.
#[utoipa::path(
    method(get, head),
    path = "/v1/sellers/activity",
    tag = "seller-figures",
    params(
        PageQuery,
    ),
    responses(
        (status = 200, description = "A page of what happened to the caller's listings \
            (sales, refunds, installs, published versions, blocked scans, reviews), newest \
            first", body = Page<Activity>),
        (status = "default", description = "An error in the contract's envelope (401 \
            `UNAUTHORIZED` without a token)", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn list_activity(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    query: RawQuery,
) -> Result<Json<Page<Activity>>, ApiError> {
    let page = PageRequest::parse(param(&query, "limit"), param(&query, "offset"))?;
    Ok(Json(state.market().sellers().activity(caller.user_id.into(), page).await?))
}
