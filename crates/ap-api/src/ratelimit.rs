//! The rate-limit middleware, attached by the route table to each resource with that
//! resource's read rule: picks the request's tier (docs/API.md, Rate limits: it follows the
//! endpoint, not the caller), consults the limiter before any handler runs, and reports
//! the budget in `X-RateLimit-*` headers; over the limit it answers 429 with
//! `Retry-After` and the contract's body, and nothing else happens.
//!
//! The caller is resolved with the same once-per-request cache as the auth extractors
//! (budgets are keyed by user when signed in). A request with a bad token counts as
//! anonymous here (by client IP), then gets its 401.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use actix_web::HttpRequest;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use actix_web::middleware::Next;
use actix_web::web::Data;
use ap_domain::Code;
use ap_ratelimit::policy::client_ip;
use ap_ratelimit::{Decision, Key, Tier};

use crate::auth::{bearer, resolve_caller};
use crate::error::coded_response;
use crate::state::AppState;

const LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
const REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
const RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// Who may read a resource (docs/API.md, Endpoints at a glance), which decides the tier of its GET/HEAD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    /// No or optional authentication: the public read tier, signed in or not.
    Public,
    /// Authentication required: the authenticated read tier.
    SignedIn,
    /// Signed file links: their own tier, by client IP only (the signature is the
    /// capability; no bearer token is looked at).
    Files,
    /// Administration: every method counts against the admin tier, by user.
    Admin,
}

/// The client's address: the socket peer, or the right-most `X-Forwarded-For` address
/// that is not a trusted proxy when the peer is one.
pub(crate) fn client_address(req: &HttpRequest, state: &AppState) -> IpAddr {
    let peer = req.peer_addr().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    // Every X-Forwarded-For line, in order (a proxy may add its own line).
    let forwarded: Vec<&str> =
        req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).collect();
    let forwarded = (!forwarded.is_empty()).then(|| forwarded.join(","));
    client_ip(peer, forwarded.as_deref(), &state.config().trusted_proxies)
}

fn set_headers(headers: &mut HeaderMap, decision: &Decision) {
    let mut set = |name: HeaderName, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set(LIMIT, decision.limit.to_string());
    set(REMAINING, decision.remaining.to_string());
    set(RESET, decision.reset_at.to_string());
    if !decision.allowed {
        set(RETRY_AFTER, decision.retry_after.max(1).to_string());
    }
}

/// Counts the request against its tier before it reaches a handler.
pub async fn rate_limit(
    reads: Reads,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let state = req.app_data::<Data<AppState>>().cloned();
    let limiter = state.as_ref().and_then(|s| s.limiter().cloned());
    let (Some(state), Some(limiter)) = (state, limiter) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let is_read = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let tier = match (is_read, reads) {
        (_, Reads::Files) => Tier::Files,
        (_, Reads::Admin) => Tier::Admin,
        (false, _) => Tier::Write,
        (true, Reads::Public) => Tier::PublicRead,
        (true, Reads::SignedIn) => Tier::AuthenticatedRead,
    };
    let ip = client_address(req.request(), &state);
    if tier == Tier::Files {
        let decision = decide(&limiter, Key::new(tier, None, ip)).await;
        return answer(req, next, decision).await;
    }
    // A token this instance would have to look up is paid for by the client's IP first,
    // so a flood of made-up tokens is refused before it costs a query.
    if bearer(req.request()).ok().flatten().is_some_and(|token| state.auth().needs_lookup(&token)) {
        let decision = decide(&limiter, Key::new(Tier::TokenLookup, None, ip)).await;
        if !decision.allowed {
            let mut response = coded_response(Code::RateLimited, "Rate limit exceeded");
            set_headers(response.headers_mut(), &decision);
            return Ok(req.into_response(response));
        }
    }
    let caller = resolve_caller(req.request()).await.ok().flatten();
    let key = Key::new(tier, caller.as_ref().map(|c| c.user_id.as_str()), ip);
    let decision = decide(&limiter, key).await;
    answer(req, next, decision).await
}

/// The limiter's decision on `key`, counted by tier and outcome
/// (`ap_rate_limit_decisions_total`).
async fn decide(limiter: &Arc<dyn ap_ratelimit::Limiter>, key: Key) -> Decision {
    let decision = limiter.check(&key).await;
    let outcome = if decision.allowed { "allowed" } else { "limited" };
    metrics::counter!("ap_rate_limit_decisions_total", "tier" => key.tier.as_str(), "outcome" => outcome)
        .increment(1);
    decision
}

/// 429 when `decision` refuses the request, else the handler's response; the budget
/// headers either way.
async fn answer(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    decision: Decision,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if !decision.allowed {
        let mut response = coded_response(Code::RateLimited, "Rate limit exceeded");
        set_headers(response.headers_mut(), &decision);
        return Ok(req.into_response(response));
    }
    let mut response = next.call(req).await?.map_into_boxed_body();
    set_headers(response.headers_mut(), &decision);
    Ok(response)
}
