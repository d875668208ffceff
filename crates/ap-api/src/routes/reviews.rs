//! `GET` and `POST /v1/skills/{slug}/reviews` (and the agents twin); the rules are in
//! [`ap_market::reviews`].

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{Data, Json, Path};
use ap_domain::page::PageRequest;
use ap_domain::wire::{Review, ReviewsPage};
use serde_json::{Map, Value};

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::kind::Kind;
use crate::openapi::ErrorBody;
use crate::query::{RawQuery, param};
use crate::state::AppState;

/// `GET /v1/skills/{slug}/reviews?limit=&offset=` (limit 1–50, default 10): newest first.
#[utoipa::path(
    method(get, head),
    path = "/v1/skills/{slug}/reviews",
    tag = "reviews",
    params(
        ("slug" = String, Path, description = "The listing's slug"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 50,
            description = "Page size (default 10)"),
        ("offset" = Option<i64>, Query, minimum = 0, maximum = 1000,
            description = "Page offset (default 0)"),
    ),
    responses(
        (status = 200, description = "A page of the live listing's reviews, newest first \
            (`created_at`, then `id`, descending), under both `items` and `reviews`, with the \
            listing's rating", body = ReviewsPage),
        (status = "default", description = "An error in the contract's envelope (404 \
            `SKILL_NOT_FOUND` when no live listing has that slug, or for a skill's slug under \
            `/v1/agents`)", body = ErrorBody),
    ),
    security((), ("bearer" = [])),
)]
pub async fn list_reviews(
    state: Data<AppState>,
    Kind(forced): Kind,
    slug: Path<String>,
    query: RawQuery,
) -> Result<Json<ReviewsPage>, ApiError> {
    let page = PageRequest::parse_with(param(&query, "limit"), param(&query, "offset"), 10, 50)?;
    Ok(Json(state.market().reviews().page(slug.into_inner(), forced, page).await?))
}

/// The body of `POST /v1/skills/{slug}/reviews` (read field by field; unknown fields are
/// refused, every bad field is reported at once).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Describes a body the handler reads field by field.
pub struct ReviewBody {
    /// The rating, an integer from 1 to 5.
    #[schema(minimum = 1, maximum = 5)]
    rating: i32,
    /// The review's text; null or absent for a rating without text. Hidden characters
    /// (bidirectional controls, zero-width characters, the byte-order mark) are removed
    /// and surrounding white space is trimmed first; what is left may be at most 5,000
    /// characters (an empty text is stored as none). A text the scan's prompt-injection
    /// rules flag HIGH is refused (422 `REVIEW_TEXT_REJECTED` with the findings).
    #[schema(max_length = 5000)]
    text: Option<String>,
}

/// `POST /v1/skills/{slug}/reviews`: 201 for a first review, 200 when it replaces the
/// caller's earlier one.
#[utoipa::path(
    post,
    path = "/v1/skills/{slug}/reviews",
    tag = "reviews",
    params(
        ("slug" = String, Path, description = "The listing's slug"),
    ),
    request_body(
        content = ReviewBody,
        content_type = "application/json",
        description = "The rating and optional text; a second review by the same user \
                       replaces the first"
    ),
    responses(
        (status = 200, description = "The review, which replaced the caller's earlier one \
            (same `id` and `created_at`, `updated_at` moved)", body = Review),
        (status = 201, description = "The review, the caller's first of this listing",
            body = Review),
        (status = "default", description = "An error in the contract's envelope (403 \
            `OWN_SKILL`, `PURCHASE_REQUIRED` or `INSTALL_REQUIRED` when the caller may not \
            review it)", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
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
