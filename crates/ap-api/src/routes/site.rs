//! The site pages the clients send people to: a listing with its Buy button
//! (`/skills/{slug}`, `/agents/{slug}`; `?action=buy` signs the person in if needed and
//! starts the checkout), the purchase success page, the sandbox gateway's checkout page,
//! and the stylesheet.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::web::{Data, Form, Path};
use actix_web::{HttpRequest, HttpResponse};
use ap_domain::commerce::PurchaseStatus;
use ap_domain::listing::ListingType;
use ap_domain::wire::ListingDetail;
use ap_market::commerce::CommerceError;
use askama::Template;
use serde::Deserialize;

use crate::kind::Kind;
use crate::pages::{self, csrf_ok, csrf_token, forget_csrf, html, message, redirect, signed_in};
use crate::query::{RawQuery, param};
use crate::state::AppState;

/// `$12.50`.
fn price(cents: i64, currency: &str) -> String {
    let symbol = if currency.eq_ignore_ascii_case("usd") { "$" } else { "" };
    format!("{symbol}{}.{:02}", cents / 100, cents % 100)
}

/// `GET /static/site.css`.
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(pages::STYLESHEET)
}

#[derive(Template)]
#[template(path = "listing.html")]
struct ListingPage<'a> {
    detail: &'a ListingDetail,
    kind: &'a str,
    price: String,
    paid: bool,
    version: &'a str,
    security: &'a str,
    notice: Option<&'a str>,
}

fn listing_page(detail: &ListingDetail, notice: Option<&str>, status: StatusCode) -> HttpResponse {
    let summary = &detail.summary;
    let page = ListingPage {
        detail,
        kind: summary.listing_type.as_str(),
        price: if summary.price_cents == 0 {
            "Free".to_owned()
        } else {
            price(summary.price_cents, &summary.currency)
        },
        paid: summary.price_cents > 0,
        version: summary.version.as_deref().unwrap_or("none yet"),
        security: summary.security_status.as_str(),
        notice,
    };
    html(status, &page)
}

/// `GET /skills/{slug}` and `GET /agents/{slug}` (`?action=buy` to buy).
pub async fn listing(
    req: HttpRequest,
    state: Data<AppState>,
    Kind(kind): Kind,
    slug: Path<String>,
    query: RawQuery,
) -> HttpResponse {
    let slug = slug.into_inner();
    let catalog = state.market().catalog();
    let Ok(live) = catalog.live(&slug, kind).await else {
        return message(StatusCode::NOT_FOUND, "Not found", "There is no such listing here.");
    };
    // Only a GET starts a checkout (a HEAD or a prefetch must not).
    let buying =
        req.method() == actix_web::http::Method::GET && param(&query, "action") == Some("buy");
    if !buying || live.detail.summary.price_cents == 0 {
        return listing_page(&live.detail, None, StatusCode::OK);
    }
    let Some(caller) = signed_in(&req, &state).await else {
        let kind = kind.unwrap_or(ListingType::Skill).as_str();
        let back = format!("{}/{kind}s/{slug}?action=buy", state.config().public_url);
        return match pages::sign_in_url(&state, &back) {
            Some(url) => redirect(&url),
            None => message(StatusCode::UNAUTHORIZED, "Sign in", "Sign in to buy this listing."),
        };
    };
    let commerce = state.market().commerce();
    match commerce.start_checkout(caller.user_id.into(), slug, None, None).await {
        Ok(started) => redirect(&started.checkout_url),
        Err(error) => {
            let notice = match &error {
                CommerceError::AlreadyPurchased => "You own this listing already: install it.",
                CommerceError::OwnListing => "This is your own listing.",
                CommerceError::SellerNotReady => "The seller cannot take payments yet.",
                _ => {
                    tracing::warn!(%error, "checkout from the listing page failed");
                    "The checkout could not start; try again in a moment."
                }
            };
            listing_page(&live.detail, Some(notice), StatusCode::OK)
        }
    }
}

#[derive(Template)]
#[template(path = "success.html")]
struct SuccessPage<'a> {
    title: &'a str,
    slug: &'a str,
    status: &'a str,
    completed: bool,
    pending: bool,
    license_code: &'a str,
}

/// `GET /purchase/success?session_id=`: settles the checkout, then shows the status, the
/// license code and the install command.
pub async fn purchase_success(state: Data<AppState>, query: RawQuery) -> HttpResponse {
    let Some(session_id) = param(&query, "session_id").filter(|s| !s.is_empty()) else {
        return message(StatusCode::BAD_REQUEST, "No purchase", "This page needs a checkout.");
    };
    match state.market().commerce().checkout_view(session_id, true).await {
        Ok(view) => html(
            StatusCode::OK,
            &SuccessPage {
                title: &view.title,
                slug: &view.slug,
                status: view.status.as_str(),
                completed: view.status == PurchaseStatus::Completed,
                pending: view.status == PurchaseStatus::Pending,
                license_code: view.license_code.as_deref().unwrap_or(""),
            },
        ),
        Err(CommerceError::PurchaseNotFound) => {
            message(StatusCode::NOT_FOUND, "No purchase", "There is no such checkout here.")
        }
        Err(error) => {
            tracing::warn!(%error, "success page");
            message(
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again",
                "The purchase could not be confirmed right now; reload this page in a moment.",
            )
        }
    }
}

#[derive(Template)]
#[template(path = "checkout.html")]
struct CheckoutPage<'a> {
    title: &'a str,
    price: String,
    session_id: &'a str,
    csrf: &'a str,
}

fn sandbox_path(session_id: &str) -> String {
    format!("/sandbox/checkout/{session_id}")
}

/// `GET /sandbox/checkout/{session_id}`: the sandbox's payment page.
pub async fn sandbox_checkout(state: Data<AppState>, session_id: Path<String>) -> HttpResponse {
    let commerce = state.market().commerce();
    if commerce.gateway().sandbox().is_none() {
        return message(StatusCode::NOT_FOUND, "Not found", "Payments here go through Stripe.");
    }
    let view = match commerce.checkout_view(&session_id, false).await {
        Ok(view) if view.status == PurchaseStatus::Pending => view,
        Ok(_) => return message(StatusCode::OK, "Checkout closed", "This checkout is settled."),
        Err(_) => return message(StatusCode::NOT_FOUND, "Not found", "There is no such checkout."),
    };
    let (csrf, cookie) = csrf_token(&sandbox_path(&session_id));
    let page = CheckoutPage {
        title: &view.title,
        price: price(view.amount_cents, &view.currency),
        session_id: &session_id,
        csrf: &csrf,
    };
    let mut response = html(StatusCode::OK, &page);
    let _ = response.add_cookie(&cookie);
    response
}

/// The sandbox's form.
#[derive(Debug, Deserialize)]
pub struct SandboxForm {
    csrf: String,
}

/// `POST /sandbox/checkout/{session_id}/pay`: marks the sandbox session paid, fulfils it
/// through the same path as a Stripe webhook, and continues to the success URL.
pub async fn sandbox_pay(
    req: HttpRequest,
    state: Data<AppState>,
    session_id: Path<String>,
    form: Form<SandboxForm>,
) -> HttpResponse {
    sandbox_action(req, state, session_id.into_inner(), form.into_inner(), true).await
}

/// `POST /sandbox/checkout/{session_id}/cancel`: back to the cancel URL.
pub async fn sandbox_cancel(
    req: HttpRequest,
    state: Data<AppState>,
    session_id: Path<String>,
    form: Form<SandboxForm>,
) -> HttpResponse {
    sandbox_action(req, state, session_id.into_inner(), form.into_inner(), false).await
}

async fn sandbox_action(
    req: HttpRequest,
    state: Data<AppState>,
    session_id: String,
    form: SandboxForm,
    pay: bool,
) -> HttpResponse {
    if !csrf_ok(&req, &form.csrf) {
        return message(StatusCode::BAD_REQUEST, "Form expired", "Reload the page and try again.");
    }
    let commerce = state.market().commerce();
    let Some(sandbox) = commerce.gateway().sandbox() else {
        return message(StatusCode::NOT_FOUND, "Not found", "Payments here go through Stripe.");
    };
    let next = if pay { sandbox.pay(&session_id) } else { sandbox.cancel(&session_id) };
    let Some(next) = next else {
        return message(StatusCode::NOT_FOUND, "Not found", "There is no such checkout.");
    };
    if pay && let Err(error) = commerce.fulfil(&session_id).await {
        tracing::warn!(%error, "sandbox payment not fulfilled yet");
    }
    let mut response = redirect(&next);
    forget_csrf(&mut response, &sandbox_path(&session_id));
    response
}

/// `GET /onboarding`: the refresh URL of onboarding links: a fresh link for the signed-in
/// seller (links expire within minutes), or sign-in first.
pub async fn onboarding(req: HttpRequest, state: Data<AppState>) -> HttpResponse {
    let Some(caller) = signed_in(&req, &state).await else {
        let back = format!("{}/onboarding", state.config().public_url);
        return match pages::sign_in_url(&state, &back) {
            Some(url) => redirect(&url),
            None => message(StatusCode::UNAUTHORIZED, "Sign in", "Sign in to continue."),
        };
    };
    let sellers = state.market().sellers();
    match sellers.connect(caller.user_id.into(), &serde_json::Map::new()).await {
        Ok(link) => redirect(&link.url),
        Err(error) => {
            tracing::warn!(%error, "onboarding link");
            message(
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again",
                "The onboarding link could not be made right now; reload this page in a moment.",
            )
        }
    }
}

/// `GET /onboarding/done`: where onboarding returns.
pub async fn onboarding_done() -> HttpResponse {
    message(
        StatusCode::OK,
        "Onboarding submitted",
        "Thank you. Once your payouts are enabled you can publish paid listings; GET \
         /v1/sellers/status shows where your account stands.",
    )
}

#[derive(Template)]
#[template(path = "onboarding.html")]
struct OnboardingPage<'a> {
    account_id: &'a str,
    csrf: &'a str,
}

fn onboarding_path(account_id: &str) -> String {
    format!("/sandbox/onboarding/{account_id}")
}

/// `GET /sandbox/onboarding/{account_id}`: the sandbox's onboarding page.
pub async fn sandbox_onboarding(state: Data<AppState>, account_id: Path<String>) -> HttpResponse {
    if state.market().commerce().gateway().sandbox().is_none() {
        return message(StatusCode::NOT_FOUND, "Not found", "Onboarding here goes through Stripe.");
    }
    let (csrf, cookie) = csrf_token(&onboarding_path(&account_id));
    let mut response =
        html(StatusCode::OK, &OnboardingPage { account_id: &account_id, csrf: &csrf });
    let _ = response.add_cookie(&cookie);
    response
}

/// `POST /sandbox/onboarding/{account_id}/complete`: enables charges and payouts, stores
/// the account's new state, and continues to the return URL.
pub async fn sandbox_complete_onboarding(
    req: HttpRequest,
    state: Data<AppState>,
    account_id: Path<String>,
    form: Form<SandboxForm>,
) -> HttpResponse {
    if !csrf_ok(&req, &form.csrf) {
        return message(StatusCode::BAD_REQUEST, "Form expired", "Reload the page and try again.");
    }
    let market = state.market();
    let Some(sandbox) = market.commerce().gateway().sandbox() else {
        return message(StatusCode::NOT_FOUND, "Not found", "Onboarding here goes through Stripe.");
    };
    let Some(next) = sandbox.complete_onboarding(&account_id) else {
        return message(StatusCode::NOT_FOUND, "Not found", "There is no such account.");
    };
    if let Err(error) = market.sellers().refresh(&account_id).await {
        tracing::warn!(%error, "sandbox onboarding not stored yet");
    }
    let mut response = redirect(&next);
    forget_csrf(&mut response, &onboarding_path(&account_id));
    response
}
