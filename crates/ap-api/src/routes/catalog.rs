//! Public catalog reads (docs/API.md, Catalog): listing pages and details (`/v1/skills`,
//! `/v1/agents`), search, the unified detail, categories and platforms.

use std::fmt::Write as _;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::web::{Data, Json, Path};
use actix_web::{HttpRequest, HttpResponse};
use ap_domain::listing::{
    CatalogFilter, ListingType, PriceFilter, SortOrder, parse_category, parse_choice, parse_query,
};
use ap_domain::page::{Page, PageRequest};
use ap_domain::search::terms;
use ap_domain::wire::{
    ListingDetail, ListingSummary, NATIVE_SOURCE, PlatformsResponse, SearchResponse, UnifiedDetail,
};
use ap_domain::{FieldError, FieldErrors, platform};
use ap_market::catalog::{CatalogError, SearchSource};
use ap_market::counters::Visitor;

use crate::auth::MaybeAuthenticated;
use crate::error::ApiError;
use crate::kind::Kind;
use crate::query::{RawQuery, param};
use crate::ratelimit::client_address;
use crate::state::AppState;

/// The parsed parameters of a catalog list.
#[derive(Debug, Clone)]
struct CatalogQuery {
    filter: CatalogFilter,
    sort: SortOrder,
    page: PageRequest,
}

/// Parses `type`, `category`, `sort`, `price`, `limit` and `offset`, reporting every bad
/// value at once.
fn parse_catalog_query(query: &RawQuery) -> Result<CatalogQuery, FieldErrors> {
    let mut errors = FieldErrors::default();
    let kind = errors.check(parse_choice(
        "type",
        param(query, "type"),
        ListingType::parse,
        "skill, agent",
    ));
    let category = errors.check(parse_category(param(query, "category")));
    let sort = errors.check(parse_choice(
        "sort",
        param(query, "sort"),
        SortOrder::parse,
        "popular, newest, rating, price_asc, price_desc",
    ));
    let price = errors.check(parse_choice(
        "price",
        param(query, "price"),
        PriceFilter::parse,
        "free, paid",
    ));
    let page = PageRequest::parse(param(query, "limit"), param(query, "offset"))
        .map_err(|e| errors.0.extend(e.0))
        .ok();
    errors.finish(|| CatalogQuery {
        filter: CatalogFilter {
            listing_type: kind.flatten(),
            category: category.flatten(),
            price: price.flatten(),
        },
        sort: sort.flatten().unwrap_or_default(),
        page: page.unwrap_or_default(),
    })
}

/// `GET /v1/skills` (skills and agents unless `type` says) and `GET /v1/agents`.
pub async fn list_listings(
    state: Data<AppState>,
    Kind(forced): Kind,
    query: RawQuery,
) -> Result<Json<Page<Arc<ListingSummary>>>, ApiError> {
    let mut parsed = parse_catalog_query(&query)?;
    if forced.is_some() {
        parsed.filter.listing_type = forced;
    }
    Ok(Json(state.market().catalog().page(parsed.filter, parsed.sort, parsed.page).await?))
}

/// `GET /v1/skills/{slug}` (a live skill or agent, or any of the caller's own listings)
/// and `GET /v1/agents/{slug}` (a skill's slug is 404 there).
pub async fn get_listing(
    state: Data<AppState>,
    Kind(forced): Kind,
    slug: Path<String>,
    MaybeAuthenticated(caller): MaybeAuthenticated,
) -> Result<Json<ListingDetail>, ApiError> {
    let viewer = caller.map(|c| c.user_id.into());
    Ok(Json(state.market().catalog().detail(&slug, forced, viewer).await?))
}

/// The section `source` asks for: this server's own (`agentpowers`, `all` or none), or
/// another source's name, which this server answers empty.
fn parse_source(raw: Option<&str>) -> Result<SearchSource, FieldError> {
    match raw.map(str::trim).unwrap_or("") {
        "" | "all" | NATIVE_SOURCE => Ok(SearchSource::Native),
        name if name.len() <= 50
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            Ok(SearchSource::Other(name.to_ascii_lowercase()))
        }
        _ => Err(FieldError::query(
            "source",
            "string_pattern_mismatch",
            "Source should be a name of letters, digits, - and _",
        )),
    }
}

/// `GET /v1/search?q=&type=&category=&source=&limit=&offset=`: an object keyed by source.
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
    let source = errors.check(parse_source(param(&query, "source")));
    let page = PageRequest::parse(param(&query, "limit"), param(&query, "offset"))
        .map_err(|e| errors.0.extend(e.0))
        .ok();
    let (q, filter, source, page) = errors.finish(|| {
        let filter = CatalogFilter {
            listing_type: kind.flatten(),
            category: category.flatten(),
            price: None,
        };
        (q.flatten(), filter, source.unwrap_or(SearchSource::Native), page.unwrap_or_default())
    })?;
    let terms = q.as_deref().map(terms).unwrap_or_default();
    Ok(Json(state.market().catalog().search(source, terms, filter, page).await?))
}

/// `GET /v1/detail/{slug}?source=`: the unified detail of a live listing of this server
/// (other sources are 404 here); counts a view (once per visitor and day).
pub async fn get_detail(
    req: HttpRequest,
    state: Data<AppState>,
    MaybeAuthenticated(caller): MaybeAuthenticated,
    slug: Path<String>,
    query: RawQuery,
) -> Result<Json<UnifiedDetail>, ApiError> {
    if !matches!(param(&query, "source").map(str::trim), None | Some("") | Some(NATIVE_SOURCE)) {
        return Err(CatalogError::ListingNotFound.into());
    }
    let visitor =
        Visitor::new(caller.as_ref().map(|c| c.user_id.as_str()), client_address(&req, &state));
    Ok(Json(state.market().catalog().unified(&slug, &visitor).await?))
}

/// Whether the client prefers plain text (asks for `text/plain` and not for JSON).
fn wants_plain_text(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/plain") && !accept.contains("application/json"))
}

/// `GET /v1/categories`: every category with its count of live listings, as JSON or
/// (for `Accept: text/plain`) one line per category.
pub async fn list_categories(
    state: Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let response = state.market().catalog().categories().await?;
    if wants_plain_text(&req) {
        let mut text = String::new();
        for c in &response.categories {
            let _ = writeln!(text, "{}\t{}\t{}", c.category, c.count, c.name);
        }
        return Ok(HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(text));
    }
    Ok(HttpResponse::Ok().json(&*response))
}

/// `GET /v1/platforms`: supported install targets.
pub async fn list_platforms() -> Json<PlatformsResponse> {
    let platforms = platform::all();
    Json(PlatformsResponse { total: platforms.len(), platforms })
}
