//! Server-rendered pages: askama templates (checked at compile time, output escaped),
//! one stylesheet, the headers every page carries (a strict Content Security Policy, no
//! framing, no caching, no referrer), double-submit CSRF tokens for forms, and the
//! signed-in person of a browser request (the `__session` cookie).

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use ap_auth::Caller;
use askama::Template;

use crate::state::AppState;

/// The session cookie (the name Clerk uses).
pub const SESSION_COOKIE: &str = "__session";
/// The double-submit CSRF cookie.
const CSRF_COOKIE: &str = "ap_csrf";

/// The stylesheet of every page.
pub const STYLESHEET: &str = include_str!("../static/site.css");
/// The one script (search as you type on the browse page; every page works without it).
pub const SCRIPT: &str = include_str!("../static/site.js");

/// Scripts, styles and fetches only from this server (no inline script or style), no
/// framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     connect-src 'self'; style-src 'self'; img-src 'self' data:; base-uri 'none'; \
     frame-ancestors 'none'";

/// A listing's long description (Markdown, as sellers write it) as HTML for a page whose
/// own headings are `h1` and `h2`: tables and strikethrough on; raw HTML shown as text;
/// only `http`, `https` and e-mail links kept (any other becomes its text); images
/// shown as their alt text (the page loads nothing from elsewhere); headings start at
/// `h3`; tables without column alignment (an inline style). The text itself is escaped by
/// the renderer.
pub fn markdown(text: &str) -> String {
    use pulldown_cmark::{Alignment, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd};
    fn shifted(level: HeadingLevel) -> HeadingLevel {
        match level {
            HeadingLevel::H1 | HeadingLevel::H2 => HeadingLevel::H3,
            HeadingLevel::H3 => HeadingLevel::H4,
            HeadingLevel::H4 => HeadingLevel::H5,
            HeadingLevel::H5 | HeadingLevel::H6 => HeadingLevel::H6,
        }
    }
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut dropped_link = false;
    let events = Parser::new_ext(text, options).filter_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::Heading { level, id, classes, attrs }) => {
            Some(Event::Start(Tag::Heading { level: shifted(level), id, classes, attrs }))
        }
        Event::End(TagEnd::Heading(level)) => Some(Event::End(TagEnd::Heading(shifted(level)))),
        Event::Start(Tag::Link { link_type, ref dest_url, .. }) => {
            let url = dest_url.to_ascii_lowercase();
            let web = ["https://", "http://", "mailto:"].iter().any(|s| url.starts_with(s));
            // An e-mail autolink (`<a@b.example>`) arrives without its `mailto:`.
            dropped_link = !web && link_type != LinkType::Email;
            (!dropped_link).then_some(event)
        }
        // Column alignment would be an inline style, which the pages' CSP refuses.
        Event::Start(Tag::Table(columns)) => {
            Some(Event::Start(Tag::Table(vec![Alignment::None; columns.len()])))
        }
        Event::End(TagEnd::Link) => (!std::mem::take(&mut dropped_link)).then_some(event),
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        other => Some(other),
    });
    let mut html = String::with_capacity(text.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

/// A rendered page with the headers every page carries.
pub fn html(status: StatusCode, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::REFERRER_POLICY, "no-referrer"))
            .insert_header((header::X_FRAME_OPTIONS, "DENY"))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(body),
        Err(error) => {
            tracing::error!(%error, "page did not render");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("Internal server error")
        }
    }
}

/// A page with a title and one message.
#[derive(Template)]
#[template(path = "message.html")]
pub struct Message<'a> {
    /// Heading and title.
    pub title: &'a str,
    /// The message.
    pub message: &'a str,
}

/// The 503 page of a page whose data could not be read: "`what` could not be read right
/// now; reload this page in a moment."
pub fn unreadable(what: &str) -> HttpResponse {
    let text = format!("{what} could not be read right now; reload this page in a moment.");
    message(StatusCode::SERVICE_UNAVAILABLE, "Try again", &text)
}

/// A message page.
pub fn message(status: StatusCode, title: &str, text: &str) -> HttpResponse {
    html(status, &Message { title, message: text })
}

/// A `303 See Other` to `location`.
pub fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .finish()
}

/// A fresh CSRF token and the cookie that carries it for `path`.
pub fn csrf_token(path: &str) -> (String, Cookie<'static>) {
    let token = hex::encode(rand::random::<[u8; 32]>());
    let cookie = Cookie::build(CSRF_COOKIE, token.clone())
        .path(path.to_owned())
        .http_only(true)
        .same_site(SameSite::Strict)
        .finish();
    (token, cookie)
}

/// Whether a form's CSRF token matches its cookie (compared in constant time).
pub fn csrf_ok(req: &HttpRequest, submitted: &str) -> bool {
    req.cookie(CSRF_COOKIE).is_some_and(|cookie| {
        let (a, b) = (cookie.value().as_bytes(), submitted.as_bytes());
        !b.is_empty()
            && a.len() == b.len()
            && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    })
}

/// Removes the CSRF cookie of `path` from the browser.
pub fn forget_csrf(response: &mut HttpResponse, path: &str) {
    let _ =
        response.add_removal_cookie(&Cookie::build(CSRF_COOKIE, "").path(path.to_owned()).finish());
}

/// The person signed in on this browser (a valid session in `__session`; a CLI token
/// there is not a sign-in), if any.
pub async fn signed_in(req: &HttpRequest, state: &AppState) -> Option<Caller> {
    let token = req.cookie(SESSION_COOKIE)?.value().to_owned();
    if token.starts_with(ap_auth::cli_token::PREFIX) {
        return None;
    }
    state.auth().authenticate(&token).await.ok()
}

/// The answer to a signed-out browser on a page that needs a person: to sign in and back
/// to `back` (a page of this site), or a 401 page saying `why` when no sign-in page is
/// configured.
pub fn to_sign_in(state: &AppState, back: &str, why: &str) -> HttpResponse {
    match sign_in_url(state, back) {
        Some(url) => redirect(&url),
        None => message(StatusCode::UNAUTHORIZED, "Sign in", why),
    }
}

/// Where to send a browser to sign in and come back to `back` (a page of this site).
pub fn sign_in_url(state: &AppState, back: &str) -> Option<String> {
    let base = match (state.dev_issuer(), &state.config().sign_in_url) {
        (Some(_), _) => format!("{}/sign-in", state.config().public_url),
        (None, Some(url)) => url.clone(),
        (None, None) => return None,
    };
    let mut url = url::Url::parse(&base).ok()?;
    url.query_pairs_mut().append_pair("redirect_url", back);
    Some(url.into())
}

#[cfg(test)]
mod tests {
    use super::markdown;

    #[test]
    fn markdown_keeps_the_text_and_drops_what_could_act() {
        let html = markdown("# Title\n\n## Part\n\nSome *words* and `code`.\n\n- one\n- two\n");
        assert_eq!(
            html,
            "<h3>Title</h3>\n<h3>Part</h3>\n<p>Some <em>words</em> and <code>code</code>.</p>\n\
             <ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"
        );
        let hostile = markdown(
            "<script>alert(1)</script>\n\n[click](javascript:alert(1)) \
             [ok](https://example.com/a?b=1&c=\"d\") ![pixel](https://tracker.example/p.png) \
             <img src=x onerror=alert(1)>",
        );
        assert!(!hostile.contains("<script"), "{hostile}");
        assert!(!hostile.contains("<img"), "{hostile}");
        assert!(!hostile.contains("javascript:"), "{hostile}");
        assert!(hostile.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{hostile}");
        assert!(hostile.contains("click"), "the text of a dropped link stays: {hostile}");
        assert!(
            hostile.contains("<a href=\"https://example.com/a?b=1&amp;c=%22d%22\">ok</a>"),
            "{hostile}"
        );
        assert!(hostile.contains("pixel") && !hostile.contains("tracker"), "{hostile}");
        let table = markdown("| a | b |\n|:-:|--:|\n| 1 | 2 |\n\nWrite to <team@example.com>.");
        assert!(table.contains("<table>") && !table.contains("style"), "{table}");
        assert!(table.contains("<a href=\"mailto:team@example.com\">"), "{table}");
    }
}
