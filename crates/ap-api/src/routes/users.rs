//! `GET`/`PATCH /v1/users/profile`: the caller's own profile (the rules are in
//! [`ap_market::accounts`]).

use actix_web::web::{Data, Json};
use ap_domain::wire::Profile;
use serde_json::{Map, Value};

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::state::AppState;

/// `GET /v1/users/profile`.
pub async fn get_profile(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Profile>, ApiError> {
    Ok(Json(state.market().accounts().profile(caller.user_id.into()).await?))
}

/// `PATCH /v1/users/profile`: only the listed fields; anything else is 422 and changes
/// nothing.
pub async fn update_profile(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    body: Json<Map<String, Value>>,
) -> Result<Json<Profile>, ApiError> {
    Ok(Json(state.market().accounts().update_profile(caller.user_id.into(), &body).await?))
}
