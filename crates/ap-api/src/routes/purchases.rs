//! Commerce routes: `POST /v1/checkout`, `GET /v1/purchases`, `…/{id}/status`,
//! `…/confirm`, `…/download`, `POST /v1/purchases/redeem`, and the Stripe webhook. The
//! rules are in [`ap_market::commerce`].

use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data, Json, Path};
use actix_web::{HttpRequest, HttpResponse};
use ap_domain::commerce::PurchaseStatus;
use ap_domain::page::PageRequest;
use ap_domain::wire::{
    CheckoutStarted, PurchaseDownload, PurchasePending, PurchaseState, PurchasesPage, Redeemed,
    WebhookReceived,
};
use ap_domain::{FieldError, FieldErrors};
use serde_json::{Map, Value};

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::openapi::{ErrorBody, PageQuery};
use crate::query::{RawQuery, param};
use crate::state::AppState;

/// The body of `POST /v1/checkout` (read field by field by the commerce service; unknown
/// fields answer 422 `extra_forbidden`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Describes a body the handler reads field by field.
pub struct CheckoutBody {
    /// The slug of a live paid skill or agent.
    #[schema(min_length = 1)]
    skill_slug: String,
    /// Where the buyer returns after paying: an absolute `http`/`https` URL of at most 2,000
    /// bytes, without user name or password, on this server's origin, a loopback host or an
    /// origin of `payments.redirect_origins`. `{CHECKOUT_SESSION_ID}` is replaced by the
    /// session id (`session_id={CHECKOUT_SESSION_ID}` is appended when absent). Default
    /// `{public_url}/purchase/success?session_id={CHECKOUT_SESSION_ID}`; empty counts as
    /// absent.
    #[schema(max_length = 2000)]
    success_url: Option<String>,
    /// Where the buyer returns on cancelling (the same rules). Default
    /// `{public_url}/skills/{slug}`; empty counts as absent.
    #[schema(max_length = 2000)]
    cancel_url: Option<String>,
}

/// `POST /v1/checkout` (201).
#[utoipa::path(
    post,
    path = "/v1/checkout",
    tag = "purchases",
    request_body(
        content = CheckoutBody,
        content_type = "application/json",
        description = "The listing to buy and, optionally, the redirect URLs"
    ),
    responses(
        (status = 201, description = "A pending purchase and its checkout (the caller's open \
            checkout of the same listing, if any, is answered again)", body = CheckoutStarted),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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
#[utoipa::path(
    method(get, head),
    path = "/v1/purchases",
    tag = "purchases",
    params(
        ("status" = Option<PurchaseStatus>, Query,
            description = "Only purchases in this status (any case); all when absent"),
        PageQuery,
    ),
    responses(
        (status = 200, description = "The caller's purchases, bought or redeemed, newest \
            first; the page under both `items` and `purchases`", body = PurchasesPage),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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
#[utoipa::path(
    method(get, head),
    path = "/v1/purchases/{purchase_id}/status",
    tag = "purchases",
    params(("purchase_id" = String, Path, description = "The purchase (a UUID)")),
    responses(
        (status = 200, description = "The purchase's state (a pending one is first settled \
            from the payment gateway)", body = PurchaseState),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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
#[utoipa::path(
    method(get, head),
    path = "/v1/purchases/confirm",
    tag = "purchases",
    params(
        ("session_id" = String, Query, min_length = 1, max_length = 255,
            description = "The checkout session id"),
    ),
    responses(
        (status = 200, description = "The purchase's state after settling it from the payment \
            gateway", body = PurchaseState),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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
#[utoipa::path(
    method(get, head),
    path = "/v1/purchases/download",
    tag = "purchases",
    params(
        ("session_id" = String, Query, min_length = 1, max_length = 255,
            description = "The checkout session id (the capability: no token is needed)"),
    ),
    responses(
        (status = 200, description = "The purchase is completed: a signed link to the \
            listing's live version (counts a download, a HEAD too)", body = PurchaseDownload),
        (status = 202, description = "Not paid: `pending`, or `failed`, `expired` or \
            `refunded`", body = PurchasePending),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    ),
    security((), ("bearer" = []))
)]
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

/// The body of `POST /v1/purchases/redeem` (read field by field; other fields are ignored).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Describes a body the handler reads field by field.
pub struct RedeemBody {
    /// A license code: three groups of 4 to 8 hexadecimal digits separated by `-`, in any
    /// case; surrounding blanks are ignored.
    #[schema(pattern = r"^\s*[0-9A-Fa-f]{4,8}-[0-9A-Fa-f]{4,8}-[0-9A-Fa-f]{4,8}\s*$")]
    license_code: String,
}

/// `POST /v1/purchases/redeem`.
#[utoipa::path(
    post,
    path = "/v1/purchases/redeem",
    tag = "purchases",
    request_body(
        content = RedeemBody,
        content_type = "application/json",
        description = "The license code to redeem"
    ),
    responses(
        (status = 200, description = "The code's purchase is linked to the caller (again: \
            nothing changes)", body = Redeemed),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn redeem_code(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    body: Json<Map<String, Value>>,
) -> Result<Json<Redeemed>, ApiError> {
    Ok(Json(state.market().commerce().redeem(caller.user_id.into(), &body).await?))
}

/// `POST /v1/webhooks/stripe`: the raw body is verified against `Stripe-Signature`
/// (400 and no change otherwise) and applied once per event id.
#[utoipa::path(
    post,
    path = "/v1/webhooks/stripe",
    tag = "webhooks",
    params(
        ("Stripe-Signature" = String, Header,
            description = "`t=<unix seconds>,v1=<hex HMAC-SHA256 of \"{t}.{body}\">` (one or \
                more `v1`; `t` within 300 seconds of the server's clock)"),
    ),
    request_body(
        content = Object,
        content_type = "application/json",
        description = "The event exactly as Stripe sends it (read as raw bytes; the \
            `Content-Type` is not checked)"
    ),
    responses(
        (status = 200, description = "The event is applied, or was before (`duplicate`)",
            body = WebhookReceived),
        (status = "default", description = "An error in the contract's envelope (400 \
            `WEBHOOK_SIGNATURE_INVALID` when the signature does not verify)", body = ErrorBody),
    )
)]
pub async fn stripe_webhook(
    req: HttpRequest,
    state: Data<AppState>,
    body: Bytes,
) -> Result<Json<WebhookReceived>, ApiError> {
    let signature = req.headers().get("stripe-signature").and_then(|v| v.to_str().ok());
    let duplicate = state.market().commerce().webhook(&body, signature).await?;
    Ok(Json(WebhookReceived { received: true, duplicate }))
}
