//! The signed-in person's account page (`/account`): who is signed in, their profile (a
//! form under the same rules as `PATCH /v1/users/profile`), their purchases with license
//! codes and a Download button each, and their CLI token (when it was made, when it was
//! last used) with a button that revokes it. Signed out, the page sends the browser to
//! sign in and back.

use actix_web::http::StatusCode;
use actix_web::web::{Data, Form};
use actix_web::{HttpRequest, HttpResponse};
use ap_auth::Caller;
use ap_domain::commerce::PurchaseStatus;
use ap_domain::error::ErrorCode;
use ap_domain::page::PageRequest;
use ap_domain::wire::PurchaseItem;
use ap_market::accounts::AccountError;
use ap_market::counters::Visitor;
use askama::Template;
use serde::Deserialize;

use crate::openapi::ErrorBody;
use crate::pages::{self, csrf_ok, csrf_token, html, message, redirect, signed_in};
use crate::ratelimit::client_address;
use crate::routes::site::price;
use crate::state::AppState;

/// The page's path (also the CSRF cookie's).
const ACCOUNT: &str = "/account";
/// Purchases listed on the page.
const PURCHASES_SHOWN: i64 = 100;

/// One purchase, as the page shows it.
struct PurchaseRow {
    title: String,
    slug: String,
    href: String,
    amount: String,
    status: &'static str,
    date: String,
    code: Option<String>,
    /// Paid and not refunded: the Download button shows.
    downloadable: bool,
}

impl PurchaseRow {
    fn of(item: &PurchaseItem) -> Self {
        PurchaseRow {
            title: item.title.clone(),
            slug: item.slug.clone(),
            href: format!("/skills/{}", item.slug),
            amount: price(item.amount_cents, &item.currency),
            status: item.status.as_str(),
            date: item.purchased_at.format("%Y-%m-%d").to_string(),
            code: item.license_code.clone(),
            downloadable: item.status == PurchaseStatus::Completed,
        }
    }
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    name: String,
    email: String,
    seller_page: Option<String>,
    profile: ProfileFields,
    purchases: Vec<PurchaseRow>,
    token: Option<(String, String, String)>,
    csrf: String,
    notice: Option<String>,
}

/// The profile form's fields, as stored (or as just submitted, when refused).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ProfileFields {
    /// Public display name (2–50 characters; left as it is when empty).
    #[serde(default)]
    display_name: String,
    /// Bio (at most 2,000 characters; empty clears it).
    #[serde(default)]
    bio: String,
    /// Personal site (an http(s) URL; empty clears it).
    #[serde(default)]
    website_url: String,
    /// GitHub profile URL.
    #[serde(default)]
    github_url: String,
    /// LinkedIn profile URL.
    #[serde(default)]
    linkedin_url: String,
    /// Twitter/X profile URL.
    #[serde(default)]
    twitter_url: String,
}

impl ProfileFields {
    fn of(profile: &ap_domain::wire::Profile) -> Self {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        ProfileFields {
            display_name: text(&profile.display_name),
            bio: text(&profile.bio),
            website_url: text(&profile.website_url),
            github_url: text(&profile.github_url),
            linkedin_url: text(&profile.linkedin_url),
            twitter_url: text(&profile.twitter_url),
        }
    }

    /// The `PATCH /v1/users/profile` body: every field, but an empty display name (which
    /// cannot be cleared) is left out.
    fn patch(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut body = serde_json::Map::new();
        let fields = [
            ("display_name", &self.display_name),
            ("bio", &self.bio),
            ("website_url", &self.website_url),
            ("github_url", &self.github_url),
            ("linkedin_url", &self.linkedin_url),
            ("twitter_url", &self.twitter_url),
        ];
        for (name, value) in fields {
            if name != "display_name" || !value.trim().is_empty() {
                body.insert(name.to_owned(), value.trim().into());
            }
        }
        body
    }
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

/// The signed-in sender of one of the page's forms, or the answer: to sign in, or a 400
/// page when the form's CSRF token does not match its cookie.
async fn form_caller(
    req: &HttpRequest,
    state: &AppState,
    csrf: &str,
) -> Result<Caller, HttpResponse> {
    let caller = caller_or_sign_in(req, state).await?;
    if !csrf_ok(req, csrf) {
        return Err(message(
            StatusCode::BAD_REQUEST,
            "Form expired",
            "Reload the page and try again.",
        ));
    }
    Ok(caller)
}

fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The account page with `notice`, and the profile form filled from `fields` (else from
/// the stored profile).
async fn account_page(
    state: &AppState,
    caller: &Caller,
    status: StatusCode,
    notice: Option<String>,
    fields: Option<ProfileFields>,
) -> HttpResponse {
    let market = state.market();
    let user = caller.user_id.clone();
    let me = market.accounts().me(user.clone().into()).await;
    let first = PageRequest { limit: PURCHASES_SHOWN, offset: 0 };
    let purchases = market.commerce().purchases(user.clone().into(), None, first).await;
    let token = state.auth().active_token(&user).await;
    let profile = market.accounts().profile(user.clone().into()).await;
    let (account, purchases, token, profile) = match (me, purchases, token, profile) {
        (Ok(account), Ok(purchases), Ok(token), Ok(profile)) => {
            (account, purchases, token, profile)
        }
        _ => {
            return pages::unreadable("Your account");
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
        profile: fields.unwrap_or_else(|| ProfileFields::of(&profile)),
        purchases: purchases.items.iter().map(PurchaseRow::of).collect(),
        token: token.map(|t| {
            let used = t.last_used_at.map_or_else(|| "never".to_owned(), when);
            (when(t.created_at), used, when(t.expires_at))
        }),
        csrf,
        notice,
    };
    let mut response = html(status, &page);
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
        Ok(caller) => account_page(&state, &caller, StatusCode::OK, None, None).await,
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
    let caller = match form_caller(&req, &state, &form.csrf).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    if let Err(error) = state.auth().revoke(&caller).await {
        tracing::warn!(%error, "revoking from the account page");
        return message(
            StatusCode::SERVICE_UNAVAILABLE,
            "Try again",
            "The token could not be revoked right now; try again in a moment.",
        );
    }
    state.announcements().changed();
    let notice = "Your CLI token is revoked; run ap login to make a new one.".to_owned();
    // The page answered sets a fresh CSRF token for its forms (replacing the used one).
    account_page(&state, &caller, StatusCode::OK, Some(notice), None).await
}

/// The Download form of a purchase.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DownloadForm {
    /// The form's CSRF token (must match the `ap_csrf` cookie).
    csrf: String,
    /// The purchased listing's slug.
    slug: String,
}

/// `POST /account/download`: a purchase's current version, through a fresh signed link
/// (counted as one download, as `GET /v1/skills/{slug}/download` counts it). A form, not a
/// link, so that a prefetch counts nothing.
#[utoipa::path(
    post,
    path = "/account/download",
    tag = "pages",
    params(
        ("__session" = Option<String>, Cookie, description = "The session JWT that sign-in set"),
        ("ap_csrf" = String, Cookie, description = "The CSRF cookie the account page set"),
    ),
    request_body(
        content = DownloadForm,
        content_type = "application/x-www-form-urlencoded",
        description = "A purchase's Download form on the account page"
    ),
    responses(
        (status = 303, description = "To the archive's signed link (or, not signed in, to the \
            sign-in page)",
            headers(("Location" = String, description = "The signed file link, or sign-in"))),
        (status = "default", description = "A refusal: an HTML page (400: the CSRF token is \
            missing or does not match; 401: not signed in and no sign-in page is configured; \
            403: not bought; 404: no such listing, version or archive; 410: withdrawn by the \
            marketplace; 503: the link could not be made); a body that is not such a \
            form, and other errors (rate limiting), in the contract's envelope",
            content((ErrorBody = "application/json"), (String = "text/html"))),
    )
)]
pub async fn download(
    req: HttpRequest,
    state: Data<AppState>,
    form: Form<DownloadForm>,
) -> HttpResponse {
    let DownloadForm { csrf, slug } = form.into_inner();
    let caller = match form_caller(&req, &state, &csrf).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let visitor = Visitor::new(Some(caller.user_id.as_str()), client_address(&req, &state));
    let downloads = state.market().downloads();
    match downloads.link(slug, None, None, Some(caller.user_id.into()), &visitor).await {
        Ok(link) => redirect(&link.url),
        // The API's own status and words for the refusal; a failure of ours is a 503 page.
        Err(error) => match StatusCode::from_u16(error.code().http_status()) {
            Ok(status) if status.is_client_error() => {
                message(status, "Cannot download", &error.public_message())
            }
            _ => {
                tracing::warn!(%error, "download from the account page");
                let text = "The download could not start right now; try again in a moment.";
                message(StatusCode::SERVICE_UNAVAILABLE, "Cannot download", text)
            }
        },
    }
}

/// The profile form with its CSRF token.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ProfileForm {
    /// The form's CSRF token (must match the `ap_csrf` cookie).
    csrf: String,
    /// The fields.
    #[serde(flatten)]
    fields: ProfileFields,
}

/// `POST /account/profile`: saves the profile form under the rules of `PATCH
/// /v1/users/profile`; a refused value changes nothing and is shown with the reason.
#[utoipa::path(
    post,
    path = "/account/profile",
    tag = "pages",
    params(
        ("__session" = Option<String>, Cookie, description = "The session JWT that sign-in set"),
        ("ap_csrf" = String, Cookie, description = "The CSRF cookie the account page set"),
    ),
    request_body(
        content = ProfileForm,
        content_type = "application/x-www-form-urlencoded",
        description = "The account page's profile form"
    ),
    responses(
        (status = 200, description = "Saved: the account page, saying so",
            content_type = "text/html", body = String),
        (status = 303, description = "Not signed in: to the sign-in page",
            headers(("Location" = String, description = "The sign-in page"))),
        (status = 422, description = "A value was refused (nothing changed): the account page \
            with the reasons and the submitted values", content_type = "text/html", body = String),
        (status = "default", description = "A refusal: an HTML page (400: the CSRF token is \
            missing or does not match; 401: not signed in and no sign-in page is configured; \
            503: the profile could not be saved); a body that is not such a form, and other \
            errors (rate limiting), in the contract's envelope",
            content((ErrorBody = "application/json"), (String = "text/html"))),
    )
)]
pub async fn save_profile(
    req: HttpRequest,
    state: Data<AppState>,
    form: Form<ProfileForm>,
) -> HttpResponse {
    let ProfileForm { csrf, fields } = form.into_inner();
    let caller = match form_caller(&req, &state, &csrf).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let accounts = state.market().accounts();
    // The page answered sets a fresh CSRF token for its forms (replacing the used one).
    match accounts.update_profile(caller.user_id.clone().into(), &fields.patch()).await {
        Ok(_) => {
            state.announcements().changed();
            let notice = Some("Profile saved.".to_owned());
            account_page(&state, &caller, StatusCode::OK, notice, None).await
        }
        Err(AccountError::Invalid(errors)) => {
            let reasons: Vec<String> = errors
                .0
                .iter()
                .map(|e| format!("{}: {}", e.loc.last().map_or("profile", String::as_str), e.msg))
                .collect();
            let notice = Some(format!("Not saved. {}", reasons.join("; ")));
            account_page(&state, &caller, StatusCode::UNPROCESSABLE_ENTITY, notice, Some(fields))
                .await
        }
        Err(error) => {
            tracing::warn!(%error, "saving a profile from the account page");
            message(
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again",
                "The profile could not be saved right now; try again in a moment.",
            )
        }
    }
}
