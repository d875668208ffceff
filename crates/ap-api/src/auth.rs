//! Authentication extractors.
//!
//! [`Authenticated`] requires a valid bearer token; [`MaybeAuthenticated`] accepts none,
//! but a *bad* token is still 401, never silently anonymous. The caller is resolved once
//! per request and kept in the request extensions, so middleware (rate limiting) and
//! extractors share the work.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use ap_auth::{AuthError, Caller};
use ap_domain::{Code, Refusal};
use futures_util::future::LocalBoxFuture;

use crate::error::ApiError;
use crate::state::AppState;

/// The answer for any unusable credential (unknown, malformed, expired or revoked).
pub fn unauthorized() -> ApiError {
    AuthError::Unauthorized.into()
}

/// The bearer token of a request: `Ok(None)` without an Authorization header, an error
/// for any other scheme or an empty token.
pub(crate) fn bearer(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else { return Ok(None) };
    let value = value.to_str().map_err(|_| unauthorized())?;
    let (scheme, token) = value.split_once(' ').ok_or_else(unauthorized)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(unauthorized());
    }
    Ok(Some(token.to_owned()))
}

/// The outcome of resolving a request's credentials, kept in its extensions: the caller,
/// or the coded refusal of a bad token (so later layers do not verify it again).
#[derive(Debug, Clone)]
struct Resolved(Result<Option<Caller>, (Code, String)>);

/// The route where a session signs in (the end of `ap login` and of the web login):
/// only there may it cancel its account's scheduled deletion.
const SIGN_IN: &str = "/v1/auth/cli-token";

async fn resolve(req: &HttpRequest) -> Result<Option<Caller>, ApiError> {
    let Some(token) = bearer(req)? else { return Ok(None) };
    let state = req
        .app_data::<Data<AppState>>()
        .ok_or_else(|| Refusal::new(Code::Internal, "application state missing"))?;
    let auth = state.auth();
    let caller = if req.method() == actix_web::http::Method::POST && req.path() == SIGN_IN {
        auth.authenticate_sign_in(&token).await?
    } else {
        auth.authenticate(&token).await?
    };
    Ok(Some(caller))
}

/// Whether the request's credentials were resolved to a signed-in caller.
pub fn signed_in(req: &HttpRequest) -> bool {
    matches!(req.extensions().get::<Resolved>(), Some(Resolved(Ok(Some(_)))))
}

/// Resolves the caller of a request once: `None` when anonymous, an error for a bad token.
pub async fn resolve_caller(req: &HttpRequest) -> Result<Option<Caller>, ApiError> {
    if let Some(Resolved(outcome)) = req.extensions().get::<Resolved>() {
        return outcome.clone().map_err(|(code, message)| ApiError::coded(code, message));
    }
    let outcome = resolve(req).await;
    // Refusals are kept too; failures of the service (5xx) are not, so they are retried.
    let kept = match &outcome {
        Ok(caller) => Some(Ok(caller.clone())),
        Err(e) if e.code().http_status() < 500 => Some(Err((e.code(), e.public_message()))),
        Err(_) => None,
    };
    if let Some(kept) = kept {
        req.extensions_mut().insert(Resolved(kept));
    }
    outcome
}

/// A request with a valid token.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Caller);

/// A request with a valid token or none.
#[derive(Debug, Clone)]
pub struct MaybeAuthenticated(pub Option<Caller>);

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(
            async move { resolve_caller(&req).await?.map(Authenticated).ok_or_else(unauthorized) },
        )
    }
}

impl FromRequest for MaybeAuthenticated {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { resolve_caller(&req).await.map(MaybeAuthenticated) })
    }
}

/// Resolves the bearer token of every request to the resources it wraps, so a bad token
/// is 401 on every API route (never silently anonymous) and handlers read the caller for
/// free.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if let Err(error) = resolve_caller(req.request()).await {
        return Ok(req.error_response(error));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}
