//! Commerce routes: `POST /v1/checkout`, `GET /v1/purchases`, `…/{id}/status`,
//! `…/confirm`, `…/download`, `POST /v1/purchases/redeem`, and the Stripe webhook. The
//! rules are in [`ap_market::commerce`].

use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data, Json, Path};
use actix_web::{HttpRequest, HttpResponse};
use ap_domain::commerce::PurchaseStatus;
use ap_domain::page::PageRequest;
use ap_domain::wire::{PurchasePending, PurchaseState, PurchasesPage, Redeemed, WebhookReceived};
use ap_domain::{FieldError, FieldErrors};
use serde_json::{Map, Value};

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::query::{RawQuery, param};
use crate::state::AppState;

/// `POST /v1/checkout` (201).
pub async fn create_checkout(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    body: Json<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    let started = state.market().commerce().checkout(caller.user_id.into(), &body).await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(started))
}

fn status_filter(query: &RawQuery) -> Result<Option<PurchaseStatus>, FieldError> {
    match param(query, "status").map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(raw) => PurchaseStatus::parse(&raw.to_ascii_lowercase()).map(Some).ok_or_else(|| {
            FieldError::query(
                "status",
                "enum",
                "Input should be one of: pending, completed, failed, expired, refunded",
            )
        }),
    }
}

/// `GET /v1/purchases?status=&limit=&offset=`: the caller's purchases, newest first.
pub async fn list_purchases(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    query: RawQuery,
) -> Result<Json<PurchasesPage>, ApiError> {
    let mut errors = FieldErrors::default();
    let status = errors.check(status_filter(&query)).flatten();
    let page = PageRequest::parse(param(&query, "limit"), param(&query, "offset"))
        .map_err(|e| errors.0.extend(e.0))
        .ok();
    let page = errors.finish(|| page.unwrap_or_default())?;
    let commerce = state.market().commerce();
    Ok(Json(commerce.purchases(caller.user_id.into(), status, page).await?))
}

/// `GET /v1/purchases/{purchase_id}/status`.
pub async fn get_purchase_status(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    id: Path<String>,
) -> Result<Json<PurchaseState>, ApiError> {
    let commerce = state.market().commerce();
    Ok(Json(commerce.status(caller.user_id.into(), id.into_inner()).await?))
}

fn session_id(query: &RawQuery) -> Result<String, ApiError> {
    param(query, "session_id")
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 255)
        .map(str::to_owned)
        .ok_or_else(|| {
            ApiError::field(FieldError::query("session_id", "missing", "Field required"))
        })
}

/// `GET /v1/purchases/confirm?session_id=`: settles the caller's checkout if the
/// provider says it is paid, then answers its state.
pub async fn confirm_purchase(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    query: RawQuery,
) -> Result<Json<PurchaseState>, ApiError> {
    let session = session_id(&query)?;
    Ok(Json(state.market().commerce().confirm(caller.user_id.into(), session).await?))
}

/// `GET /v1/purchases/download?session_id=`: the link once paid (200), else 202
/// `{"status": …}`.
pub async fn download_purchase(
    state: Data<AppState>,
    query: RawQuery,
) -> Result<HttpResponse, ApiError> {
    let session = session_id(&query)?;
    Ok(match state.market().commerce().download(session).await? {
        Ok(link) => HttpResponse::Ok().json(link),
        Err(status) => HttpResponse::Accepted().json(PurchasePending { status }),
    })
}

/// `POST /v1/purchases/redeem`.
pub async fn redeem_code(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    body: Json<Map<String, Value>>,
) -> Result<Json<Redeemed>, ApiError> {
    Ok(Json(state.market().commerce().redeem(caller.user_id.into(), &body).await?))
}

/// `POST /v1/webhooks/stripe`: the raw body is verified against `Stripe-Signature`
/// (400 and no change otherwise) and applied once per event id.
pub async fn stripe_webhook(
    req: HttpRequest,
    state: Data<AppState>,
    body: Bytes,
) -> Result<Json<WebhookReceived>, ApiError> {
    let signature = req.headers().get("stripe-signature").and_then(|v| v.to_str().ok());
    let duplicate = state.market().commerce().webhook(&body, signature).await?;
    Ok(Json(WebhookReceived { received: true, duplicate }))
}
