//! `GET`/`PATCH /v1/users/profile`: the caller's own profile.
//!
//! PATCH accepts only `display_name`, `bio`, `website_url`, `github_url`, `linkedin_url`
//! and `twitter_url`; any other field (or a bad value) answers 422 and changes nothing.

use actix_web::web::{Data, Json};
use ap_domain::validation::body_text;
use ap_domain::wire::Profile;
use ap_domain::{FieldError, FieldErrors};
use ap_store::models::User;
use ap_store::users::{self, ProfileChanges};
use serde_json::{Map, Value};

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::present::utc;
use crate::state::AppState;

const URL_FIELDS: [&str; 4] = ["website_url", "github_url", "linkedin_url", "twitter_url"];

fn profile(user: User) -> Profile {
    Profile {
        id: user.id,
        email: user.email,
        display_name: user.display_name,
        display_name_slug: user.display_name_slug,
        github_username: user.github_username,
        bio: user.bio,
        website_url: user.website_url,
        github_url: user.github_url,
        linkedin_url: user.linkedin_url,
        twitter_url: user.twitter_url,
        avatar_url: user.avatar_url,
        joined_at: utc(user.created_at),
        created_at: utc(user.created_at),
        account_status: user.account_status,
        deletion_scheduled_at: user.deletion_scheduled_at.map(utc),
    }
}

/// `GET /v1/users/profile`.
pub async fn get_profile(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Profile>, ApiError> {
    let user = state.db().run(move |c| users::by_id(c, &caller.user_id)).await?;
    Ok(Json(profile(user)))
}

/// An http(s) URL of at most 500 characters; empty or null clears the field.
fn profile_url(name: &str, value: &Value) -> Result<Option<String>, FieldError> {
    let Some(raw) = body_text(name, value)?.filter(|s| !s.is_empty()) else { return Ok(None) };
    let invalid = || FieldError::body(name, "url_parsing", "Input should be an http or https URL");
    if raw.chars().count() > 500 {
        return Err(FieldError::body(
            name,
            "string_too_long",
            "String should have at most 500 characters",
        ));
    }
    let url = url::Url::parse(&raw).map_err(|_| invalid())?;
    let ok = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|h| !h.is_empty())
        && url.username().is_empty()
        && url.password().is_none();
    if ok { Ok(Some(raw)) } else { Err(invalid()) }
}

/// What a PATCH body asks for.
struct Patch {
    display_name: Option<String>,
    changes: ProfileChanges,
}

fn parse_patch(body: &Map<String, Value>) -> Result<Patch, FieldErrors> {
    let mut errors = FieldErrors::default();
    let mut patch = Patch { display_name: None, changes: ProfileChanges::default() };
    for (name, value) in body {
        match name.as_str() {
            "display_name" => match body_text(name, value) {
                Ok(Some(n)) if (2..=50).contains(&n.chars().count()) => {
                    patch.display_name = Some(n)
                }
                Ok(_) => errors.push(FieldError::body(
                    name,
                    "string_length",
                    "Display name should have 2 to 50 characters",
                )),
                Err(e) => errors.push(e),
            },
            "bio" => match body_text(name, value) {
                Ok(bio) if bio.as_ref().is_none_or(|b| b.chars().count() <= 2000) => {
                    patch.changes.bio = Some(bio.filter(|b| !b.is_empty()));
                }
                Ok(_) => errors.push(FieldError::body(
                    name,
                    "string_too_long",
                    "String should have at most 2000 characters",
                )),
                Err(e) => errors.push(e),
            },
            field if URL_FIELDS.contains(&field) => {
                if let Some(url) = errors.check(profile_url(name, value)) {
                    let slot = match field {
                        "website_url" => &mut patch.changes.website_url,
                        "github_url" => &mut patch.changes.github_url,
                        "linkedin_url" => &mut patch.changes.linkedin_url,
                        _ => &mut patch.changes.twitter_url,
                    };
                    *slot = Some(url);
                }
            }
            _ => errors.push(FieldError::body(
                name,
                "extra_forbidden",
                "Extra inputs are not permitted",
            )),
        }
    }
    errors.finish(|| patch)
}

/// `PATCH /v1/users/profile`.
pub async fn update_profile(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    body: Json<Map<String, Value>>,
) -> Result<Json<Profile>, ApiError> {
    let patch = parse_patch(&body)?;
    let now = state.auth().clock().now().naive_utc();
    let user = state
        .db()
        .run(move |c| {
            users::update_profile(
                c,
                &caller.user_id,
                patch.display_name.as_deref(),
                &patch.changes,
                now,
            )
        })
        .await?;
    state.cache().invalidate();
    Ok(Json(profile(user)))
}
