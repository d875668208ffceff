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
use actix_web::http::header;
use actix_web::web::{Data, Form};
use actix_web::{HttpRequest, HttpResponse};
use ap_market::accounts::Identity;
use serde::Deserialize;
use url::{Host, Url};

use crate::error::ApiError;
use crate::query::{RawQuery, param};
use crate::state::AppState;

/// The session cookie (the name Clerk uses).
pub const SESSION_COOKIE: &str = "__session";
const CSRF_COOKIE: &str = "ap_csrf";
const CALLBACK_PATH: &str = "/auth/cli-callback";

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(status: actix_web::http::StatusCode, title: &str, body: &str) -> HttpResponse {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · AgentPowers</title><style>\
         body{{font-family:system-ui,-apple-system,Segoe UI,sans-serif;background:#f5f5f7;color:#1d1d1f;\
         display:flex;min-height:100vh;align-items:center;justify-content:center;margin:0}}\
         main{{background:#fff;padding:2rem 2.5rem;border-radius:14px;box-shadow:0 4px 24px #0001;\
         width:100%;max-width:380px}}h1{{font-size:1.4rem;margin:0 0 .3rem}}p{{color:#555;line-height:1.5}}\
         label{{display:block;font-size:.9rem;margin:1rem 0 .3rem;font-weight:600}}\
         input[type=email],input[type=text]{{width:100%;box-sizing:border-box;padding:.6rem .7rem;\
         border:1px solid #ccc;border-radius:8px;font-size:1rem}}\
         button{{margin-top:1.4rem;width:100%;padding:.7rem;border:0;border-radius:8px;background:#4f46e5;\
         color:#fff;font-size:1rem;font-weight:600;cursor:pointer}}.note{{font-size:.8rem;color:#888}}\
         </style></head><body><main>{body}</main></body></html>",
        title = escape(title),
    );
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header(("X-Frame-Options", "DENY"))
        .body(html)
}

fn refuse(message: &str) -> HttpResponse {
    page(
        actix_web::http::StatusCode::BAD_REQUEST,
        "Cannot continue",
        &format!("<h1>Cannot continue</h1><p>{}</p>", escape(message)),
    )
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
        let sign_in = match (&state.dev_issuer(), &state.config().sign_in_url) {
            (Some(_), _) => format!("{}/sign-in", state.config().public_url),
            (None, Some(url)) => url.clone(),
            (None, None) => return refuse("You are not signed in."),
        };
        let mut next = match Url::parse(&sign_in) {
            Ok(url) => url,
            Err(_) => return refuse("Sign-in is not configured."),
        };
        next.query_pairs_mut().append_pair("redirect_url", &back).append_pair("state", cli_state);
        return redirect(next.as_str());
    };
    target.query_pairs_mut().append_pair("token", &session).append_pair("state", cli_state);
    redirect(target.as_str())
}

fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .finish()
}

/// Where sign-in may continue: only this server's bridge.
fn continuation(public_url: &str, redirect_url: &str) -> Option<String> {
    let own = redirect_url.starts_with(&format!("{public_url}{CALLBACK_PATH}?"))
        || redirect_url.starts_with(&format!("{CALLBACK_PATH}?"));
    own.then(|| redirect_url.to_owned())
}

fn random_hex() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// `GET /sign-in?redirect_url=&state=`: the development sign-in form.
pub async fn sign_in_form(state: Data<AppState>, query: RawQuery) -> HttpResponse {
    if state.dev_issuer().is_none() {
        return refuse("Development sign-in is off on this server.");
    }
    let csrf = random_hex();
    let mut response = page(
        actix_web::http::StatusCode::OK,
        "Sign in",
        &format!(
            "<h1>Sign in to AgentPowers</h1><p>Development sign-in for this server. Any e-mail works; \
             the display name is what buyers see.</p>\
             <form method=\"post\" action=\"/sign-in\">\
             <label for=\"email\">E-mail</label><input id=\"email\" name=\"email\" type=\"email\" required maxlength=\"254\" autofocus>\
             <label for=\"display_name\">Display name</label><input id=\"display_name\" name=\"display_name\" type=\"text\" required minlength=\"2\" maxlength=\"50\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <input type=\"hidden\" name=\"redirect_url\" value=\"{redirect}\">\
             <input type=\"hidden\" name=\"state\" value=\"{cli_state}\">\
             <button type=\"submit\">Continue</button></form>\
             <p class=\"note\">No password: this form exists only while no identity provider is configured.</p>",
            redirect = escape(param(&query, "redirect_url").unwrap_or_default()),
            cli_state = escape(param(&query, "state").unwrap_or_default()),
        ),
    );
    let cookie = Cookie::build(CSRF_COOKIE, csrf)
        .path("/sign-in")
        .http_only(true)
        .same_site(SameSite::Strict)
        .max_age(actix_web::cookie::time::Duration::minutes(30))
        .finish();
    let _ = response.add_cookie(&cookie);
    response
}

/// The sign-in form's fields.
#[derive(Debug, Deserialize)]
pub struct SignInForm {
    email: String,
    display_name: String,
    csrf: String,
    #[serde(default)]
    redirect_url: String,
    #[serde(default)]
    state: String,
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `POST /sign-in`: creates or finds the user, sets `__session`, continues.
pub async fn sign_in(
    state: Data<AppState>,
    req: HttpRequest,
    form: Form<SignInForm>,
) -> Result<HttpResponse, ApiError> {
    let Some(issuer) = state.dev_issuer().cloned() else {
        return Ok(refuse("Development sign-in is off on this server."));
    };
    let form = form.into_inner();
    let csrf_ok = req.cookie(CSRF_COOKIE).is_some_and(|c| {
        !form.csrf.is_empty() && constant_time_eq(c.value().as_bytes(), form.csrf.as_bytes())
    });
    if !csrf_ok {
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
        Some(next) if valid_state(&form.state) => {
            let mut next = next;
            next.push_str("&state=");
            next.push_str(
                &url::form_urlencoded::byte_serialize(form.state.as_bytes()).collect::<String>(),
            );
            redirect(&next)
        }
        _ => page(
            actix_web::http::StatusCode::OK,
            "Signed in",
            "<h1>Signed in</h1><p>You can close this window.</p>",
        ),
    };
    let _ = response.add_cookie(&session);
    let _ = response.add_removal_cookie(&Cookie::build(CSRF_COOKIE, "").path("/sign-in").finish());
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
    fn sign_in_continues_only_to_the_bridge() {
        let site = "http://127.0.0.1:8080";
        assert!(
            continuation(site, "http://127.0.0.1:8080/auth/cli-callback?redirect_to=x").is_some()
        );
        assert!(continuation(site, "/auth/cli-callback?redirect_to=x").is_some());
        assert!(continuation(site, "https://evil.example/auth/cli-callback?x").is_none());
        assert!(continuation(site, "http://127.0.0.1:8080.evil/auth/cli-callback?x").is_none());
        assert!(continuation(site, "//evil/auth/cli-callback?x").is_none());
    }
}
