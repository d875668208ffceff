//! The site pages the clients send people to: a listing with its Buy button
//! (`/skills/{slug}`, `/agents/{slug}`; `?action=buy` signs the person in if needed and
//! starts the checkout), the purchase success page, the sandbox gateway's checkout page,
//! the stylesheet and the browse page's script.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::web::{Data, Form, Path};
use actix_web::{HttpRequest, HttpResponse};
use ap_domain::commerce::PurchaseStatus;
use ap_domain::listing::ListingType;
use ap_domain::page::PageRequest;
use ap_domain::wire::ListingDetail;
use ap_market::commerce::CommerceError;
use askama::Template;
use serde::Deserialize;

use crate::kind::Kind;
use crate::openapi::ErrorBody;
use crate::pages::{self, csrf_ok, csrf_token, forget_csrf, html, message, redirect, signed_in};
use crate::query::{RawQuery, param};
use crate::state::AppState;

/// `Free`, or the price as [`price`] writes it.
pub(crate) fn price_label(cents: i64, currency: &str) -> String {
    if cents == 0 { "Free".to_owned() } else { price(cents, currency) }
}

/// `$12.50`.
pub(crate) fn price(cents: i64, currency: &str) -> String {
    let symbol = if currency.eq_ignore_ascii_case("usd") { "$" } else { "" };
    format!("{symbol}{}.{:02}", cents / 100, cents % 100)
}

/// `GET /static/site.css`.
#[utoipa::path(
    method(get, head),
    path = "/static/site.css",
    tag = "pages",
    responses(
        (status = 200, description = "The stylesheet of every page", content_type = "text/css",
            body = String,
            headers(("Cache-Control" = String, description = "`public, max-age=3600`"))),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    )
)]
pub async fn stylesheet() -> HttpResponse {
    asset("text/css; charset=utf-8", pages::STYLESHEET)
}

/// A file every page shares, cached by browsers for an hour.
fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body)
}

/// `GET /static/site.js`.
#[utoipa::path(
    method(get, head),
    path = "/static/site.js",
    tag = "pages",
    responses(
        (status = 200, description = "The browse page's script (search as you type)",
            content_type = "text/javascript", body = String,
            headers(("Cache-Control" = String, description = "`public, max-age=3600`"))),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    )
)]
pub async fn script() -> HttpResponse {
    asset("text/javascript; charset=utf-8", pages::SCRIPT)
}

/// Reviews shown on a listing page (the newest; the API pages through the rest).
const PAGE_REVIEWS: i64 = 10;

/// One finding of the security report, as the page shows it.
struct FindingRow {
    severity: String,
    detail: String,
    location: Option<String>,
}

impl FindingRow {
    fn of(finding: &serde_json::Value) -> Self {
        let text = |key: &str| finding.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        let location =
            text("file").map(|file| match finding.get("line").and_then(|l| l.as_u64()) {
                Some(line) => format!("{file}:{line}"),
                None => file,
            });
        FindingRow {
            severity: text("severity")
                .map_or_else(|| "info".to_owned(), |s| s.to_ascii_lowercase()),
            detail: text("detail").unwrap_or_default(),
            location,
        }
    }
}

/// One review, as the page shows it.
struct ReviewRow {
    stars: String,
    rating: i32,
    author: String,
    text: Option<String>,
    verified: bool,
    date: String,
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
    findings: Vec<FindingRow>,
    installs: Vec<(String, String)>,
    versions: Vec<(&'a str, String, &'a str, &'a str)>,
    rating: Option<String>,
    reviews: Vec<ReviewRow>,
    notice: Option<&'a str>,
    /// The long description, rendered from Markdown (see [`pages::markdown`]).
    about: String,
}

/// The listing page: the listing, its version history, security report, install
/// commands and newest reviews (a failure to read the reviews leaves them out).
async fn listing_page(
    state: &AppState,
    detail: &ListingDetail,
    notice: Option<&str>,
    status: StatusCode,
) -> HttpResponse {
    let summary = &detail.summary;
    let kind = summary.listing_type;
    let first = PageRequest { limit: PAGE_REVIEWS, offset: 0 };
    let reviews = match state.market().reviews().page(summary.slug.clone(), Some(kind), first).await
    {
        Ok(page) => page.items,
        Err(error) => {
            tracing::warn!(%error, "reviews of a listing page");
            Vec::new()
        }
    };
    let platforms = ap_domain::platform::all();
    let installs =
        std::iter::once(("The ap CLI".to_owned(), format!("ap install {}", summary.slug)))
            .chain(detail.platforms.iter().filter_map(|id| {
                let name = &platforms.iter().find(|p| &p.id == id)?.name;
                Some((name.clone(), format!("ap install {} --for {id}", summary.slug)))
            }))
            .collect();
    let page = ListingPage {
        detail,
        about: pages::markdown(&detail.long_description),
        kind: kind.as_str(),
        price: price_label(summary.price_cents, &summary.currency),
        paid: summary.price_cents > 0,
        version: summary.version.as_deref().unwrap_or("none yet"),
        security: summary.security_status.as_str(),
        findings: detail.security_findings.iter().map(FindingRow::of).collect(),
        installs,
        versions: detail
            .versions
            .iter()
            .map(|v| {
                let date = v.published_at.map(|at| at.format("%Y-%m-%d").to_string());
                (
                    v.version.as_str(),
                    date.unwrap_or_default(),
                    v.security_status.as_str(),
                    v.changelog.as_deref().unwrap_or(""),
                )
            })
            .collect(),
        rating: summary
            .rating_average
            .map(|average| format!("{average:.1} out of 5 ({} ratings)", summary.rating_count)),
        reviews: reviews
            .into_iter()
            .map(|r| ReviewRow {
                stars: "★".repeat(r.rating.clamp(0, 5) as usize),
                rating: r.rating,
                author: r.author_display_name,
                text: r.text,
                verified: r.verified_purchase,
                date: r.created_at.format("%Y-%m-%d").to_string(),
            })
            .collect(),
        notice,
    };
    html(status, &page)
}

/// `GET /skills/{slug}` and `GET /agents/{slug}` (`?action=buy` to buy).
#[utoipa::path(
    method(get, head),
    path = "/skills/{slug}",
    tag = "pages",
    params(
        ("slug" = String, Path, description = "The listing's slug"),
        ("action" = Option<String>, Query, description = "`buy` to buy a paid listing (GET \
            only; ignored on a free listing and on HEAD)"),
        ("__session" = Option<String>, Cookie,
            description = "The session JWT that sign-in set (to buy)"),
    ),
    responses(
        (status = 200, description = "The page of a live listing (skills and agents here, \
            agents only under `/agents/{slug}`), with a notice when a Buy was refused",
            content_type = "text/html", body = String),
        (status = 303, description = "`action=buy` on a paid listing: to the checkout when \
            signed in, else to the sign-in page, which continues back here",
            headers(("Location" = String, description = "The checkout, or the sign-in page"))),
        (status = "default", description = "A refusal: an HTML page (404: no live listing of that \
            type with that slug; 401: buying while not signed in and no sign-in page is \
            configured); other errors (rate limiting) in the contract's envelope",
            content((ErrorBody = "application/json"), (String = "text/html"))),
    )
)]
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
        return listing_page(&state, &live.detail, None, StatusCode::OK).await;
    }
    let Some(caller) = signed_in(&req, &state).await else {
        let kind = kind.unwrap_or(ListingType::Skill).as_str();
        let back = format!("{}/{kind}s/{slug}?action=buy", state.config().public_url);
        return pages::to_sign_in(&state, &back, "Sign in to buy this listing.");
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
            listing_page(&state, &live.detail, Some(notice), StatusCode::OK).await
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
#[utoipa::path(
    method(get, head),
    path = "/purchase/success",
    tag = "pages",
    params(
        ("session_id" = String, Query, min_length = 1,
            description = "The checkout session id (the capability)"),
    ),
    responses(
        (status = 200, description = "The purchase's status (settled from the payment gateway \
            while pending); once completed, the license code and the install commands",
            content_type = "text/html", body = String),
        (status = "default", description = "A refusal: an HTML page (400: no `session_id`; 404: no \
            purchase has that session; 503: the gateway or the database failed); other errors \
            (rate limiting) in the contract's envelope",
            content((ErrorBody = "application/json"), (String = "text/html"))),
    )
)]
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
#[utoipa::path(
    method(get, head),
    path = "/sandbox/checkout/{session_id}",
    tag = "pages",
    params(("session_id" = String, Path, description = "The sandbox checkout session id")),
    responses(
        (status = 200, description = "The payment page of a pending purchase (Pay and Cancel \
            forms), or a \"Checkout closed\" page when it is no longer pending",
            content_type = "text/html", body = String,
            headers(("Set-Cookie" = String, description = "The CSRF cookie `ap_csrf` (path \
                `/sandbox/checkout/{session_id}`) on the payment page"))),
        (status = "default", description = "A refusal: a 404 HTML page (payments go through \
            Stripe; no purchase has that session); other errors (rate limiting) in the contract's \
            envelope",
            content((ErrorBody = "application/json"), (String = "text/html"))),
    )
)]
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
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SandboxForm {
    /// The form's CSRF token (must match the `ap_csrf` cookie).
    csrf: String,
}

/// `POST /sandbox/checkout/{session_id}/pay`: marks the sandbox session paid, fulfils it
/// through the same path as a Stripe webhook, and continues to the success URL.
#[utoipa::path(
    post,
    path = "/sandbox/checkout/{session_id}/pay",
    tag = "pages",
    params(
        ("session_id" = String, Path, description = "The sandbox checkout session id"),
        ("ap_csrf" = String, Cookie, description = "The CSRF cookie the page set"),
    ),
    request_body(
        content = SandboxForm,
        content_type = "application/x-www-form-urlencoded",
        description = "The page's form"
    ),
    responses(
        (status = 303, description = "Paid and fulfilled (a failure to fulfil is logged; the \
            success page tries again): to the checkout's success URL with the session id \
            filled in",
            headers(
                ("Location" = String, description = "Where to continue"),
                ("Set-Cookie" = String, description = "The CSRF cookie removed")
            )),
        (status = "default", description = "A refusal: an HTML page (400: the CSRF token is \
            missing or does not match; 404: payments go through Stripe, or the sandbox does not \
            know the session); a body that is not such a form, and other errors (rate limiting), \
            in the contract's envelope",
            content((ErrorBody = "application/json"), (String = "text/html"))),
    )
)]
pub async fn sandbox_pay(
    req: HttpRequest,
    state: Data<AppState>,
    session_id: Path<String>,
    form: Form<SandboxForm>,
) -> HttpResponse {
    sandbox_action(req, state, session_id.into_inner(), form.into_inner(), true).await
}

/// `POST /sandbox/checkout/{session_id}/cancel`: back to the cancel URL.
#[utoipa::path(
    post,
    path = "/sandbox/checkout/{session_id}/cancel",
    tag = "pages",
    params(
        ("session_id" = String, Path, description = "The sandbox checkout session id"),
        ("ap_csrf" = String, Cookie, description = "The CSRF cookie the page set"),
    ),
    request_body(
        content = SandboxForm,
        content_type = "application/x-www-form-urlencoded",
        description = "The page's form"
    ),
    responses(
        (status = 303, description = "To the checkout's cancel URL; the purchase stays pending",
            headers(
                ("Location" = String, description = "Where to continue"),
                ("Set-Cookie" = String, description = "The CSRF cookie removed")
            )),
        (status = "default", description = "A refusal: an HTML page (400: the CSRF token is \
            missing or does not match; 404: payments go through Stripe, or the sandbox does not \
            know the session); a body that is not such a form, and other errors (rate limiting), \
            in the contract's envelope",
            content((ErrorBody = "application/json"), (String = "text/html"))),
    )
)]
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
#[utoipa::path(
    method(get, head),
    path = "/onboarding",
    tag = "pages",
    params(
        ("__session" = Option<String>, Cookie,
            description = "The session JWT that sign-in set"),
    ),
    responses(
        (status = 303, description = "Signed in: to a fresh onboarding link (the payment \
            account is created on first use). Not signed in: to the sign-in page, which \
            continues back here",
            headers(("Location" = String, description = "The onboarding link, or sign-in"))),
        (status = "default", description = "A refusal: an HTML page (401: not signed in and no \
            sign-in page is configured; 503: the link could not be made); other errors (rate \
            limiting) in the contract's envelope",
            content((ErrorBody = "application/json"), (String = "text/html"))),
    )
)]
pub async fn onboarding(req: HttpRequest, state: Data<AppState>) -> HttpResponse {
    let Some(caller) = signed_in(&req, &state).await else {
        let back = format!("{}/onboarding", state.config().public_url);
        return pages::to_sign_in(&state, &back, "Sign in to continue.");
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
#[utoipa::path(
    method(get, head),
    path = "/onboarding/done",
    tag = "pages",
    responses(
        (status = 200, description = "The \"Onboarding submitted\" page (changes nothing)",
            content_type = "text/html", body = String),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    )
)]
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
#[utoipa::path(
    method(get, head),
    path = "/sandbox/onboarding/{account_id}",
    tag = "pages",
    params(("account_id" = String, Path, description = "The sandbox account")),
    responses(
        (status = 200, description = "The onboarding page with its Complete onboarding form \
            (shown for any account id)", content_type = "text/html", body = String,
            headers(("Set-Cookie" = String, description = "The CSRF cookie `ap_csrf` (path \
                `/sandbox/onboarding/{account_id}`)"))),
        (status = "default", description = "A refusal: a 404 HTML page (onboarding goes through \
            Stripe); other errors (rate limiting) in the contract's envelope",
            content((ErrorBody = "application/json"), (String = "text/html"))),
    )
)]
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
#[utoipa::path(
    post,
    path = "/sandbox/onboarding/{account_id}/complete",
    tag = "pages",
    params(
        ("account_id" = String, Path, description = "The sandbox account"),
        ("ap_csrf" = String, Cookie, description = "The CSRF cookie the page set"),
    ),
    request_body(
        content = SandboxForm,
        content_type = "application/x-www-form-urlencoded",
        description = "The page's form"
    ),
    responses(
        (status = 303, description = "Charges and payouts enabled and stored: to the return \
            URL of the account's last onboarding link (`/onboarding/done` when none is \
            known)",
            headers(
                ("Location" = String, description = "Where to continue"),
                ("Set-Cookie" = String, description = "The CSRF cookie removed")
            )),
        (status = "default", description = "A refusal: an HTML page (400: the CSRF token is \
            missing or does not match; 404: onboarding goes through Stripe, or the sandbox does \
            not know the account); a body that is not such a form, and other errors (rate \
            limiting), in the contract's envelope",
            content((ErrorBody = "application/json"), (String = "text/html"))),
    )
)]
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
