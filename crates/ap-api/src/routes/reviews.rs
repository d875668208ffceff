//! `GET` and `POST /v1/skills/{slug}/reviews` (and the agents twin); the rules are in
//! [`ap_market::reviews`].

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{Data, Json, Path};
use ap_domain::page::PageRequest;
use ap_domain::wire::ReviewsPage;
use serde_json::{Map, Value};

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::kind::Kind;
use crate::query::{RawQuery, param};
use crate::state::AppState;

/// `GET /v1/skills/{slug}/reviews?limit=&offset=` (limit 1–50, default 10): newest first.
pub async fn list_reviews(
    state: Data<AppState>,
    Kind(forced): Kind,
    slug: Path<String>,
    query: RawQuery,
) -> Result<Json<ReviewsPage>, ApiError> {
    let page = PageRequest::parse_with(param(&query, "limit"), param(&query, "offset"), 10, 50)?;
    Ok(Json(state.market().reviews().page(slug.into_inner(), forced, page).await?))
}

/// `POST /v1/skills/{slug}/reviews`: 201 for a first review, 200 when it replaces the
/// caller's earlier one.
pub async fn write_review(
    state: Data<AppState>,
    Kind(forced): Kind,
    Authenticated(caller): Authenticated,
    slug: Path<String>,
    body: Json<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    let reviews = state.market().reviews();
    let (review, created) =
        reviews.submit(caller.user_id.into(), slug.into_inner(), forced, &body).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(HttpResponse::build(status).json(review))
}
