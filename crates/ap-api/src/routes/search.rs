//! `GET /v1/search`: ranked full-text search, answered as an object keyed by source.
//!
//! The best [`MAX_SEARCH_WINDOW`] matches of a query are ranked once and kept in the
//! catalog cache, so paging through them and repeating popular queries costs two
//! primary-key reads. Pages beyond the window are empty; `total` still counts every match.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::web::{Data, Json};
use ap_domain::listing::{CatalogFilter, ListingType, parse_category, parse_choice, parse_query};
use ap_domain::page::{MAX_SEARCH_WINDOW, Page, PageRequest};
use ap_domain::search::terms;
use ap_domain::wire::{ListingSummary, NATIVE_SOURCE, SearchResponse};
use ap_domain::{FieldError, FieldErrors};
use ap_store::search;

use crate::cache::SearchKey;
use crate::error::ApiError;
use crate::present;
use crate::query::{RawQuery, param};
use crate::routes::catalog::catalog_page;
use crate::state::AppState;

/// Accepted values of `source`: this server's own listings (`all` is the same here,
/// as no external source is configured).
fn parse_source(raw: Option<&str>) -> Result<(), FieldError> {
    match raw.map(str::trim).unwrap_or("") {
        "" | "all" | NATIVE_SOURCE => Ok(()),
        _ => Err(FieldError::query("source", "enum", "Input should be one of: agentpowers, all")),
    }
}

/// `GET /v1/search?q=&type=&category=&source=&limit=&offset=`.
pub async fn search_listings(
    state: Data<AppState>,
    query: RawQuery,
) -> Result<Json<SearchResponse>, ApiError> {
    let mut errors = FieldErrors::default();
    let q = errors.check(parse_query(param(&query, "q")));
    let kind = errors.check(parse_choice(
        "type",
        param(&query, "type"),
        ListingType::parse,
        "skill, agent",
    ));
    let category = errors.check(parse_category(param(&query, "category")));
    errors.check(parse_source(param(&query, "source")));
    let page = PageRequest::parse(param(&query, "limit"), param(&query, "offset"))
        .map_err(|e| errors.0.extend(e.0))
        .ok();
    let (q, filter, page) = errors.finish(|| {
        let filter = CatalogFilter {
            listing_type: kind.flatten(),
            category: category.flatten(),
            price: None,
        };
        (q.flatten(), filter, page.unwrap_or_default())
    })?;

    let terms = q.as_deref().map(terms).unwrap_or_default();
    let section = if terms.is_empty() {
        catalog_page(&state, filter, Default::default(), page).await?
    } else {
        ranked_page(&state, SearchKey { terms, filter }, page).await?
    };
    Ok(Json(BTreeMap::from([(NATIVE_SOURCE.to_owned(), section)])))
}

async fn ranked_page(
    state: &AppState,
    key: SearchKey,
    page: PageRequest,
) -> Result<Page<Arc<ListingSummary>>, ApiError> {
    let query_key = key.clone();
    let ranked = state
        .cache()
        .search(key, async {
            let ranked = state
                .db()
                .run(move |conn| {
                    search::ranked(conn, &query_key.terms, &query_key.filter, MAX_SEARCH_WINDOW)
                })
                .await?;
            Ok::<_, ApiError>(Arc::new(ranked))
        })
        .await?;
    let start = usize::try_from(page.offset).unwrap_or(usize::MAX).min(ranked.ids.len());
    let end = start.saturating_add(usize::try_from(page.limit).unwrap_or(0)).min(ranked.ids.len());
    let ids = ranked.ids[start..end].to_vec();
    let query_state = state.clone();
    let items = if ids.is_empty() {
        Vec::new()
    } else {
        state.db().run(move |conn| present::summaries(&query_state, conn, &ids)).await?
    };
    Ok(Page::new(items, ranked.total, page))
}
