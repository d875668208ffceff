//! `GET /v1/categories`: categories with live-listing counts, as JSON or (for
//! `Accept: text/plain`) one line per category.

use std::fmt::Write as _;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use ap_domain::wire::{CategoriesResponse, CategoryInfo};
use ap_store::catalog;

use crate::error::ApiError;
use crate::state::AppState;

/// Whether the client prefers plain text (asks for `text/plain` and not for JSON).
fn wants_plain_text(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/plain") && !accept.contains("application/json"))
}

async fn load(state: &AppState) -> Result<Arc<CategoriesResponse>, ApiError> {
    state
        .cache()
        .categories(async {
            let rows = state.db().run(catalog::categories_with_counts).await?;
            let categories = rows
                .into_iter()
                .map(|(category, count)| {
                    let sample_keywords = serde_json::from_str(&category.sample_keywords)
                        .map_err(|e| ApiError::Internal(format!("category keywords: {e}")))?;
                    Ok(CategoryInfo {
                        category: category.slug,
                        name: category.name,
                        description: category.description,
                        icon: category.icon,
                        sample_keywords,
                        count,
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            let total_count = categories.iter().map(|c| c.count).sum();
            Ok(Arc::new(CategoriesResponse { categories, total_count }))
        })
        .await
}

/// Every category with its count of live listings.
pub async fn list_categories(
    state: Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let response = load(&state).await?;
    if wants_plain_text(&req) {
        let mut text = String::new();
        for c in &response.categories {
            let _ = writeln!(text, "{}\t{}\t{}", c.category, c.count, c.name);
        }
        return Ok(HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(text));
    }
    Ok(HttpResponse::Ok().json(&*response))
}
