//! `GET`/`PATCH /v1/users/profile`: the caller's own profile, and `POST
//! /v1/users/profile/delete`, the account's deletion (the rules are in
//! [`ap_market::accounts`]).

use actix_web::web::{Data, Json};
use ap_domain::wire::Profile;
use serde_json::{Map, Value};

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::openapi::ErrorBody;
use crate::state::AppState;

/// `GET /v1/users/profile`.
#[utoipa::path(
    method(get, head),
    path = "/v1/users/profile",
    tag = "users",
    responses(
        (status = 200, description = "The caller's own profile", body = Profile),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn get_profile(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Profile>, ApiError> {
    Ok(Json(state.market().accounts().profile(caller.user_id.into()).await?))
}

/// The body of `PATCH /v1/users/profile` (read field by field; any other field, or any bad
/// value, answers 422 and changes nothing; an empty object changes nothing).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Describes a body the handler reads field by field.
pub struct ProfileChangesBody {
    /// The public name, 2–50 characters; it cannot be cleared (null is refused). Its slug
    /// follows it until the user owns a listing.
    #[schema(min_length = 2, max_length = 50)]
    display_name: Option<String>,
    /// At most 2,000 characters; `""` or null clears it.
    #[schema(max_length = 2000)]
    bio: Option<String>,
    /// An `http` or `https` URL with a host and no user name or password, at most 500
    /// characters; `""` or null clears it.
    #[schema(max_length = 500)]
    website_url: Option<String>,
    /// As `website_url`.
    #[schema(max_length = 500)]
    github_url: Option<String>,
    /// As `website_url`.
    #[schema(max_length = 500)]
    linkedin_url: Option<String>,
    /// As `website_url`.
    #[schema(max_length = 500)]
    twitter_url: Option<String>,
}

/// `PATCH /v1/users/profile`: only the listed fields; anything else is 422 and changes
/// nothing.
#[utoipa::path(
    patch,
    path = "/v1/users/profile",
    tag = "users",
    request_body(
        content = ProfileChangesBody,
        content_type = "application/json",
        description = "Any of the profile's editable fields, and no others"
    ),
    responses(
        (status = 200, description = "The whole profile, as `GET` answers it", body = Profile),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn update_profile(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    body: Json<Map<String, Value>>,
) -> Result<Json<Profile>, ApiError> {
    Ok(Json(state.market().accounts().update_profile(caller.user_id.into(), &body).await?))
}

/// `POST /v1/users/profile/delete` (no body): schedules the caller's account for deletion
/// in 30 days (docs/PRIVACY.md). At once its CLI tokens are revoked, earlier sessions stop
/// working and its listings leave the catalog; signing in again within the 30 days
/// cancels it. Answers the profile (`account_status` `pending_deletion`,
/// `deletion_scheduled_at`).
#[utoipa::path(
    post,
    path = "/v1/users/profile/delete",
    tag = "users",
    responses(
        (status = 200, description = "The profile, its deletion scheduled", body = Profile),
        (status = "default", description = "An error in the contract's envelope (409 \
            `CONFLICT` when the deletion is scheduled already)", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
pub async fn delete_account(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Profile>, ApiError> {
    let profile = state.market().accounts().schedule_deletion(caller.user_id.into()).await?;
    state.auth().forget_cached_tokens();
    Ok(Json(profile))
}
