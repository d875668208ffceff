//! The signed-in person's account page (`/account`): who is signed in, their purchases
//! with license codes, and their CLI token (when it was made, when it was last used) with
//! a button that revokes it. Signed out, the page sends the browser to sign in and back.

use actix_web::http::StatusCode;
use actix_web::web::{Data, Form};
use actix_web::{HttpRequest, HttpResponse};
use ap_auth::Caller;
use ap_domain::page::PageRequest;
use ap_domain::wire::PurchaseItem;
use askama::Template;
use serde::Deserialize;

use crate::openapi::ErrorBody;
use crate::pages::{self, csrf_ok, csrf_token, forget_csrf, html, message, signed_in};
use crate::routes::site::price;
use crate::state::AppState;

/// The page's path (also the CSRF cookie's).
const ACCOUNT: &str = "/account";
/// Purchases listed on the page.
const PURCHASES_SHOWN: i64 = 100;

/// One purchase, as the page shows it.
struct PurchaseRow {
    title: String,
    href: String,
    amount: String,
    status: &'static str,
    date: String,
    code: Option<String>,
}

impl PurchaseRow {
    fn of(item: &PurchaseItem) -> Self {
        PurchaseRow {
            title: item.title.clone(),
            href: format!("/skills/{}", item.slug),
            amount: price(item.amount_cents, &item.currency),
            status: item.status.as_str(),
            date: item.purchased_at.format("%Y-%m-%d").to_string(),
            code: item.license_code.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    name: String,
    email: String,
    seller_page: Option<String>,
    purchases: Vec<PurchaseRow>,
    token: Option<(String, String, String)>,
    csrf: String,
    notice: Option<&'static str>,
}

/// Signed in, or the answer that sends the browser to sign in and back.
async fn caller_or_sign_in(req: &HttpRequest, state: &AppState) -> Result<Caller, HttpResponse> {
    match signed_in(req, state).await {
        Some(caller) => Ok(caller),
        None => {
            let back = format!("{}{ACCOUNT}", state.config().public_url);
            Err(pages::to_sign_in(state, &back, "Sign in to see your account."))
        }
    }
}

fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

async fn account_page(
    state: &AppState,
    caller: &Caller,
    notice: Option<&'static str>,
) -> HttpResponse {
    let market = state.market();
    let user = caller.user_id.clone();
    let me = market.accounts().me(user.clone().into()).await;
    let first = PageRequest { limit: PURCHASES_SHOWN, offset: 0 };
    let purchases = market.commerce().purchases(user.clone().into(), None, first).await;
    let token = state.auth().active_token(&user).await;
    let (account, purchases, token) = match (me, purchases, token) {
        (Ok(account), Ok(purchases), Ok(token)) => (account, purchases, token),
        _ => {
            return message(
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again",
                "Your account could not be read right now; reload this page in a moment.",
            );
        }
    };
    let (csrf, cookie) = csrf_token(ACCOUNT);
    let user = account.user;
    let page = AccountPage {
        name: user.display_name.or(user.name).unwrap_or_else(|| "not set".to_owned()),
        email: user.email.unwrap_or_else(|| "not known".to_owned()),
        seller_page: user
            .display_name_slug
            .filter(|_| account.is_seller)
            .map(|slug| format!("/sellers/{slug}")),
        purchases: purchases.items.iter().map(PurchaseRow::of).collect(),
        token: token.map(|t| {
            let used = t.last_used_at.map_or_else(|| "never".to_owned(), when);
            (when(t.created_at), used, when(t.expires_at))
        }),
        csrf,
        notice,
    };
    let mut response = html(StatusCode::OK, &page);
    let _ = response.add_cookie(&cookie);
    response
}

/// `GET /account`: the signed-in person's account.
#[utoipa::path(
    method(get, head),
    path = "/account",
    tag = "pages",
    params(
        ("__session" = Option<String>, Cookie, description = "The session JWT that sign-in set"),
    ),
    responses(
        (status = 200, description = "Who is signed in (name and e-mail), their purchases with \
            license codes, and their active CLI token (made, last used) with a Revoke form",
            content_type = "text/html", body = String,
            headers(("Set-Cookie" = String, description = "The CSRF cookie `ap_csrf` (path \
                `/account`)"))),
        (status = 303, description = "Not signed in: to the sign-in page, which continues back \
            here", headers(("Location" = String, description = "The sign-in page"))),
        (status = "default", description = "A refusal: an HTML page (401: not signed in and no \
            sign-in page is configured; 503: the account could not be read); other errors \
            (rate limiting) in the contract's envelope",
            content((ErrorBody = "application/json"), (String = "text/html"))),
    )
)]
pub async fn account(req: HttpRequest, state: Data<AppState>) -> HttpResponse {
    match caller_or_sign_in(&req, &state).await {
        Ok(caller) => account_page(&state, &caller, None).await,
        Err(response) => response,
    }
}

/// The Revoke form.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RevokeForm {
    /// The form's CSRF token (must match the `ap_csrf` cookie).
    csrf: String,
}

/// `POST /account/token/revoke`: revokes the signed-in person's CLI token (the CLI then
/// answers 401 until `ap login`), and shows the account again.
#[utoipa::path(
    post,
    path = "/account/token/revoke",
    tag = "pages",
    params(
        ("__session" = Option<String>, Cookie, description = "The session JWT that sign-in set"),
        ("ap_csrf" = String, Cookie, description = "The CSRF cookie the account page set"),
    ),
    request_body(
        content = RevokeForm,
        content_type = "application/x-www-form-urlencoded",
        description = "The account page's Revoke form"
    ),
    responses(
        (status = 200, description = "Revoked (or there was none): the account page, saying so",
            content_type = "text/html", body = String),
        (status = 303, description = "Not signed in: to the sign-in page",
            headers(("Location" = String, description = "The sign-in page"))),
        (status = "default", description = "A refusal: an HTML page (400: the CSRF token is \
            missing or does not match; 401: not signed in and no sign-in page is configured; \
            503: the token could not be revoked); a body that is not such a form, and other \
            errors (rate limiting), in the contract's envelope",
            content((ErrorBody = "application/json"), (String = "text/html"))),
    )
)]
pub async fn revoke_token(
    req: HttpRequest,
    state: Data<AppState>,
    form: Form<RevokeForm>,
) -> HttpResponse {
    let caller = match caller_or_sign_in(&req, &state).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    if !csrf_ok(&req, &form.csrf) {
        return message(StatusCode::BAD_REQUEST, "Form expired", "Reload the page and try again.");
    }
    if let Err(error) = state.auth().revoke(&caller).await {
        tracing::warn!(%error, "revoking from the account page");
        return message(
            StatusCode::SERVICE_UNAVAILABLE,
            "Try again",
            "The token could not be revoked right now; try again in a moment.",
        );
    }
    state.announcements().changed();
    let mut response = account_page(
        &state,
        &caller,
        Some("Your CLI token is revoked; run ap login to make a new one."),
    )
    .await;
    forget_csrf(&mut response, ACCOUNT);
    response
}
