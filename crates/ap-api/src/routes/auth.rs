//! `POST /v1/auth/cli-token`, `POST /v1/auth/revoke-cli-token`, `GET /v1/auth/me`.

use actix_web::HttpResponse;
use actix_web::web::{Data, Json};
use ap_auth::Credential;
use ap_domain::Code;
use ap_domain::wire::{CliTokenResponse, Me, RevokeResponse};

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::openapi::ErrorBody;
use crate::state::AppState;

/// Mints a 90-day CLI token for the signed-in user (session JWT only), revoking their
/// previous one.
#[utoipa::path(
    post,
    path = "/v1/auth/cli-token",
    tag = "auth",
    responses(
        (
            status = 201,
            description = "A new 90-day CLI token, shown only in this answer; the user's previous \
                           one is revoked. Needs a session JWT: a CLI token answers 403 \
                           `SESSION_REQUIRED`",
            body = CliTokenResponse
        ),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn create_cli_token(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<HttpResponse, ApiError> {
    if caller.credential != Credential::Session {
        return Err(ApiError::coded(
            Code::SessionRequired,
            "A browser session is needed to create a CLI token; run ap login",
        ));
    }
    let minted = state.auth().mint_cli_token(&caller.user_id).await?;
    Ok(HttpResponse::Created().json(CliTokenResponse {
        token: minted.token.expose().to_owned(),
        expires_at: minted.expires_at,
        token_type: "bearer".to_owned(),
    }))
}

/// Revokes the presented CLI token, or with a session the user's active one.
#[utoipa::path(
    post,
    path = "/v1/auth/revoke-cli-token",
    tag = "auth",
    responses(
        (
            status = 200,
            description = "Revoked (always `true`; revoking twice is harmless)",
            body = RevokeResponse
        ),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn revoke_cli_token(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<RevokeResponse>, ApiError> {
    state.auth().revoke(&caller).await?;
    Ok(Json(RevokeResponse { revoked: true }))
}

/// Who the caller is.
#[utoipa::path(
    method(get, head),
    path = "/v1/auth/me",
    tag = "auth",
    responses(
        (
            status = 200,
            description = "The caller; `token_expires_at` is null for a session",
            body = Me
        ),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn get_me(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Me>, ApiError> {
    let account = state.market().accounts().me(caller.user_id.clone().into()).await?;
    let (user, is_seller) = (account.user, account.is_seller);
    Ok(Json(Me {
        id: user.id.into_string(),
        email: user.email,
        name: user.name,
        display_name: user.display_name,
        display_name_slug: user.display_name_slug,
        is_seller,
        token_expires_at: match caller.credential {
            Credential::CliToken { expires_at, .. } => Some(expires_at),
            Credential::Session => None,
        },
    }))
}
