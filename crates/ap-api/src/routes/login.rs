//! Browser login for the CLI, served by the server itself.
//!
//! `ap login` opens `/sign-in?redirect_url={SITE}/auth/cli-callback?redirect_to=http://127.0.0.1:<port>/callback&state=<state>`
//! (built without URL-encoding, so `state` arrives as a parameter of `/sign-in`). The
//! development sign-in form creates or finds the user, sets the `__session` cookie (a
//! short-lived session JWT) and continues to `redirect_url` with `state`. The bridge
//! `/auth/cli-callback` reads `__session` and redirects to the CLI's loopback listener
//! with `token` and `state`, and only there: an `http` URL on `127.0.0.1`, `localhost` or
//! `[::1]` with the path `/callback`.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::web::{Data, Form};
use actix_web::{HttpRequest, HttpResponse};
use ap_market::accounts::Identity;
use askama::Template;
use serde::Deserialize;
use url::{Host, Url};

use crate::error::ApiError;
use crate::openapi::ErrorBody;
use crate::pages::{
    SESSION_COOKIE, csrf_ok, csrf_token, forget_csrf, html, message, redirect, sign_in_url,
};
use crate::query::{RawQuery, param};
use crate::state::AppState;

const CALLBACK_PATH: &str = "/auth/cli-callback";

fn refuse(text: &str) -> HttpResponse {
    message(StatusCode::BAD_REQUEST, "Cannot continue", text)
}

/// A `state` the CLI made: 1–512 printable ASCII characters without spaces.
fn valid_state(state: &str) -> bool {
    (1..=512).contains(&state.len()) && state.bytes().all(|b| b.is_ascii_graphic())
}

/// The CLI's loopback listener: `http://127.0.0.1|localhost|[::1]:<port>/callback`, no
/// user info, no fragment.
fn loopback_callback(redirect_to: &str) -> Option<Url> {
    let url = Url::parse(redirect_to).ok()?;
    let loopback = match url.host()? {
        Host::Ipv4(ip) => ip == std::net::Ipv4Addr::LOCALHOST,
        Host::Ipv6(ip) => ip == std::net::Ipv6Addr::LOCALHOST,
        Host::Domain(name) => name == "localhost",
    };
    let ok = url.scheme() == "http"
        && loopback
        && url.username().is_empty()
        && url.password().is_none()
        && url.path() == "/callback"
        && url.fragment().is_none();
    ok.then_some(url)
}

/// `GET /auth/cli-callback?redirect_to=&state=`: hands the signed-in session to the CLI.
#[utoipa::path(
    method(get, head),
    path = "/auth/cli-callback",
    tag = "pages",
    params(
        ("redirect_to" = String, Query, description = "The CLI's listener: an `http` URL on \
            `127.0.0.1`, `localhost` or `[::1]` with the path `/callback`, no user name and no \
            fragment"),
        ("state" = String, Query, min_length = 1, max_length = 512, pattern = "^[!-~]+$",
            description = "The CLI's state: 1–512 printable ASCII characters, no spaces"),
        ("__session" = Option<String>, Cookie,
            description = "The session JWT that sign-in set; without a valid one, sign in first"),
    ),
    responses(
        (status = 303, description = "Signed in: to `redirect_to` with `token` (the session \
            JWT) and `state` added. Not signed in: to the sign-in page, with `redirect_url` \
            pointing back here and `state`",
            headers(("Location" = String, description = "The listener, or the sign-in page"))),
        (status = "default", description = "A refusal: a 400 HTML page (missing or invalid \
            `state` or `redirect_to`, or not signed in while no sign-in page is configured); \
            other errors (rate limiting) in the contract's envelope",
            content((ErrorBody = "application/json"), (String = "text/html"))),
    )
)]
pub async fn cli_callback(
    state: Data<AppState>,
    req: HttpRequest,
    query: RawQuery,
) -> HttpResponse {
    let Some(cli_state) = param(&query, "state").filter(|s| valid_state(s)) else {
        return refuse("The login link is missing its state. Run ap login again.");
    };
    let Some(mut target) = param(&query, "redirect_to").and_then(loopback_callback) else {
        return refuse("The login link does not point back to the ap command on this computer.");
    };
    let now = state.auth().clock().now();
    let session = match req.cookie(SESSION_COOKIE) {
        Some(cookie) => {
            let token = cookie.value().to_owned();
            state.auth().sessions().verify(&token, now).await.ok().map(|_| token)
        }
        None => None,
    };
    let Some(session) = session else {
        // Not signed in: sign in first, then come back here with the same parameters.
        let back = format!(
            "{}{CALLBACK_PATH}?redirect_to={}",
            state.config().public_url,
            param(&query, "redirect_to").unwrap_or_default()
        );
        let Some(sign_in) = sign_in_url(&state, &back) else {
            return refuse("You are not signed in.");
        };
        let mut next = match Url::parse(&sign_in) {
            Ok(url) => url,
            Err(_) => return refuse("Sign-in is not configured."),
        };
        next.query_pairs_mut().append_pair("state", cli_state);
        return redirect(next.as_str());
    };
    target.query_pairs_mut().append_pair("token", &session).append_pair("state", cli_state);
    redirect(target.as_str())
}

/// Where sign-in may continue.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Continuation {
    /// The CLI login bridge (with the CLI's `state`).
    Bridge(String),
    /// A page of this site (a listing's Buy, the success page).
    Page(String),
}

/// Pages of this site a sign-in may continue to.
const PAGES: [&str; 6] =
    ["/skills/", "/agents/", "/purchase/", "/onboarding", "/account", "/dashboard"];

/// Where sign-in may continue: this server's bridge, or one of its pages; nowhere else.
fn continuation(public_url: &str, redirect_url: &str) -> Option<Continuation> {
    let path = redirect_url.strip_prefix(public_url).unwrap_or(redirect_url);
    if path.starts_with(&format!("{CALLBACK_PATH}?")) {
        return Some(Continuation::Bridge(format!("{public_url}{path}")));
    }
    let page = PAGES.iter().any(|p| path.starts_with(p))
        && !path.contains("//")
        && !path.contains('\\')
        && path.bytes().all(|b| b.is_ascii_graphic());
    page.then(|| Continuation::Page(format!("{public_url}{path}")))
}

/// The development sign-in form.
#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage<'a> {
    csrf: &'a str,
    redirect_url: &'a str,
    cli_state: &'a str,
}

/// `GET /sign-in?redirect_url=&state=`: the development sign-in form.
#[utoipa::path(
    method(get, head),
    path = "/sign-in",
    tag = "pages",
    params(
        ("redirect_url" = Option<String>, Query,
            description = "Where to continue after signing in (carried through the form)"),
        ("state" = Option<String>, Query,
            description = "The CLI's state (carried through the form)"),
    ),
    responses(
        (status = 200, description = "The development sign-in form (e-mail address and \
            display name)", content_type = "text/html", body = String,
            headers(("Set-Cookie" = String, description = "The CSRF cookie `ap_csrf` \
                (path `/sign-in`, `HttpOnly`, `SameSite=Strict`)"))),
        (status = "default", description = "A refusal: a 400 HTML page (development sign-in \
            is off); other errors (rate limiting) in the contract's envelope",
            content((ErrorBody = "application/json"), (String = "text/html"))),
    )
)]
pub async fn sign_in_form(state: Data<AppState>, query: RawQuery) -> HttpResponse {
    if state.dev_issuer().is_none() {
        return refuse("Development sign-in is off on this server.");
    }
    let (csrf, cookie) = csrf_token("/sign-in");
    let page = SignInPage {
        csrf: &csrf,
        redirect_url: param(&query, "redirect_url").unwrap_or_default(),
        cli_state: param(&query, "state").unwrap_or_default(),
    };
    let mut response = html(StatusCode::OK, &page);
    let _ = response.add_cookie(&cookie);
    response
}

/// The sign-in form's fields.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SignInForm {
    /// The e-mail address (trimmed, lower-cased; 3–254 bytes with an `@` and no blanks).
    #[schema(min_length = 3, max_length = 254)]
    email: String,
    /// The display name (trimmed; set only when the user has none yet).
    #[schema(min_length = 2, max_length = 50)]
    display_name: String,
    /// The form's CSRF token (must match the `ap_csrf` cookie).
    csrf: String,
    /// Where to continue: this server's `/auth/cli-callback?…` (with a valid `state`), or
    /// one of its pages under `/skills/`, `/agents/`, `/purchase/`, `/onboarding`,
    /// `/account` or `/dashboard`.
    #[serde(default)]
    redirect_url: String,
    /// The CLI's state (1–512 printable ASCII characters, no spaces), for the CLI bridge.
    #[serde(default)]
    state: String,
}

/// `POST /sign-in`: creates or finds the user, sets `__session`, continues.
#[utoipa::path(
    post,
    path = "/sign-in",
    tag = "pages",
    params(
        ("ap_csrf" = String, Cookie, description = "The CSRF cookie the form page set"),
    ),
    request_body(
        content = SignInForm,
        content_type = "application/x-www-form-urlencoded",
        description = "The development sign-in form"
    ),
    responses(
        (status = 200, description = "Signed in, nowhere to continue: a \"Signed in\" page",
            content_type = "text/html", body = String,
            headers(("Set-Cookie" = String, description = "The session cookie `__session`; \
                the CSRF cookie removed"))),
        (status = 303, description = "Signed in; continues to `redirect_url` (with `&state=` \
            appended for the CLI bridge)",
            headers(
                ("Location" = String, description = "`redirect_url`"),
                ("Set-Cookie" = String, description = "The session cookie `__session` (a \
                    session JWT; `HttpOnly`, `SameSite=Strict`); the CSRF cookie removed")
            )),
        (status = "default", description = "A refusal: a 400 HTML page (development sign-in \
            off, the form expired or its CSRF token does not match, an invalid e-mail or \
            display name); a body that is not such a form, and other errors, in the \
            contract's envelope",
            content((ErrorBody = "application/json"), (String = "text/html"))),
    )
)]
pub async fn sign_in(
    state: Data<AppState>,
    req: HttpRequest,
    form: Form<SignInForm>,
) -> Result<HttpResponse, ApiError> {
    let Some(issuer) = state.dev_issuer().cloned() else {
        return Ok(refuse("Development sign-in is off on this server."));
    };
    let form = form.into_inner();
    if !csrf_ok(&req, &form.csrf) {
        return Ok(refuse("The form expired. Go back, reload the page and try again."));
    }
    let email = form.email.trim().to_lowercase();
    let display_name = form.display_name.trim().to_owned();
    let email_ok = (3..=254).contains(&email.len())
        && email.contains('@')
        && !email.contains(char::is_whitespace);
    if !email_ok || !(2..=50).contains(&display_name.chars().count()) {
        return Ok(refuse("Enter an e-mail address and a display name of 2 to 50 characters."));
    }
    let now = state.auth().clock().now();
    let identity = Identity {
        issuer: issuer.issuer().to_owned(),
        subject: format!("email:{email}"),
        email: Some(email.clone()),
        name: Some(display_name.clone()),
        signed_in_at: Some(now.naive_utc()),
    };
    state.market().accounts().sign_in(identity.clone(), display_name).await?;
    let jwt = issuer.sign(&identity.subject, Some(&email), identity.name.as_deref(), now)?;
    // Strict: a cross-site link to the bridge must not carry the session, or any page
    // could hand it to whatever listens on a loopback port.
    let session = Cookie::build(SESSION_COOKIE, jwt)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config().public_url.starts_with("https://"))
        .max_age(actix_web::cookie::time::Duration::seconds(issuer.lifetime().num_seconds()))
        .finish();
    let mut response = match continuation(&state.config().public_url, &form.redirect_url) {
        Some(Continuation::Bridge(mut next)) if valid_state(&form.state) => {
            next.push_str("&state=");
            next.push_str(
                &url::form_urlencoded::byte_serialize(form.state.as_bytes()).collect::<String>(),
            );
            redirect(&next)
        }
        Some(Continuation::Page(next)) => redirect(&next),
        _ => message(StatusCode::OK, "Signed in", "You can close this window."),
    };
    let _ = response.add_cookie(&session);
    forget_csrf(&mut response, "/sign-in");
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_callbacks() {
        for ok in [
            "http://127.0.0.1:5555/callback",
            "http://localhost:1/callback",
            "http://[::1]:8000/callback",
        ] {
            assert!(loopback_callback(ok).is_some(), "{ok}");
        }
        for bad in [
            "https://evil.example/callback",
            "http://127.0.0.1.evil.example/callback",
            "http://user@evil/callback",
            "http://user@127.0.0.1:5555/callback",
            "javascript:alert(1)",
            "https://127.0.0.1:5555/callback",
            "http://127.0.0.1:5555/other",
            "http://127.0.0.1:5555/callback#x",
            "http://127.0.0.2:5555/callback",
            "//127.0.0.1/callback",
            "",
        ] {
            assert!(loopback_callback(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn sign_in_continues_only_to_the_bridge_and_the_site_pages() {
        let site = "http://127.0.0.1:8080";
        assert_eq!(
            continuation(site, "http://127.0.0.1:8080/skills/demo?action=buy"),
            Some(Continuation::Page("http://127.0.0.1:8080/skills/demo?action=buy".to_owned()))
        );
        assert!(continuation(site, "/purchase/success?session_id=cs_1").is_some());
        assert!(continuation(site, "/account").is_some());
        assert!(continuation(site, "/dashboard?period=week").is_some());
        assert!(continuation(site, "http://127.0.0.1:8080//evil.example/skills/x").is_none());
        assert!(continuation(site, "https://evil.example/skills/x").is_none());
        assert!(continuation(site, "http://127.0.0.1:8080/v1/auth/me").is_none());
        assert!(
            continuation(site, "http://127.0.0.1:8080/auth/cli-callback?redirect_to=x").is_some()
        );
        assert!(continuation(site, "/auth/cli-callback?redirect_to=x").is_some());
        assert!(continuation(site, "https://evil.example/auth/cli-callback?x").is_none());
        assert!(continuation(site, "http://127.0.0.1:8080.evil/auth/cli-callback?x").is_none());
        assert!(continuation(site, "//evil/auth/cli-callback?x").is_none());
    }
}
