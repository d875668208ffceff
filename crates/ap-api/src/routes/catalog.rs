//! Public catalog reads (docs/API.md, Catalog): listing pages and details (`/v1/skills`,
//! `/v1/agents`), search, the unified detail, categories and platforms.

use std::collections::BTreeMap;
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
    CategoriesResponse, ListingDetail, ListingSummary, NATIVE_SOURCE, PlatformsResponse,
    SearchResponse, UnifiedDetail,
};
use ap_domain::{FieldError, FieldErrors, platform};
use ap_market::catalog::{CatalogError, DetailAnswer, SearchSource};
use ap_market::counters::Visitor;

use crate::auth::MaybeAuthenticated;
use crate::error::ApiError;
use crate::kind::Kind;
use crate::openapi::{ErrorBody, PageQuery};
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
#[utoipa::path(
    method(get, head),
    path = "/v1/skills",
    tag = "catalog",
    params(
        ("type" = inline(Option<ListingType>), Query,
            description = "Only skills or only agents; both when absent. Under `/v1/agents` it \
                           is still checked, then forced to `agent`"),
        ("category" = Option<String>, Query, max_length = 64, pattern = "^[a-z0-9-]+$",
            description = "A category slug (see `GET /v1/categories`); an unknown category \
                           matches nothing; all categories when absent"),
        ("sort" = inline(Option<SortOrder>), Query,
            description = "`popular` (downloads + installs, the default), `newest` (first \
                           publication), `rating` (average, then number of ratings; unrated \
                           last), `price_asc` or `price_desc`"),
        ("price" = inline(Option<PriceFilter>), Query,
            description = "Only free or only paid listings; both when absent"),
        PageQuery,
    ),
    responses(
        (status = 200, description = "A page of live listings (every bad parameter is \
            reported at once as a 422)", body = Page<ListingSummary>),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    ),
    security((), ("bearer" = [])),
)]
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
#[utoipa::path(
    method(get, head),
    path = "/v1/skills/{slug}",
    tag = "catalog",
    params(
        ("slug" = String, Path, description = "The listing's slug"),
    ),
    responses(
        (status = 200, description = "The listing's detail: a live listing, or (with the \
            owner's token) the caller's own listing in any state, a draft that never went live \
            (`version` null, `security_status` `pending`) or an unpublished one (`archived_at` \
            set)", body = ListingDetail),
        (status = "default", description = "An error in the contract's envelope (404 \
            `SKILL_NOT_FOUND` for an unknown slug, a listing that is not live and not the \
            caller's, or a skill's slug under `/v1/agents`)", body = ErrorBody),
    ),
    security((), ("bearer" = [])),
)]
pub async fn get_listing(
    state: Data<AppState>,
    Kind(forced): Kind,
    slug: Path<String>,
    MaybeAuthenticated(caller): MaybeAuthenticated,
) -> Result<HttpResponse, ApiError> {
    let viewer = caller.map(|c| c.user_id.into());
    let mut ok = HttpResponse::Ok();
    ok.insert_header(header::ContentType::json());
    Ok(match state.market().catalog().detail(&slug, forced, viewer).await? {
        DetailAnswer::Stored(json) => ok.body(json),
        DetailAnswer::Built(detail) => ok.json(detail),
    })
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

/// The search answer: one page of matches per source, keyed by source name.
#[derive(utoipa::ToSchema)]
// Describes `SearchResponse`, a map of generic pages the path macro cannot name.
#[allow(dead_code)]
pub struct SearchSections(BTreeMap<String, Page<ListingSummary>>);

/// `GET /v1/search?q=&type=&category=&source=&limit=&offset=`: an object keyed by source.
#[utoipa::path(
    method(get, head),
    path = "/v1/search",
    tag = "search",
    params(
        ("q" = Option<String>, Query, max_length = 200,
            description = "Free text: each word must match as a prefix of a word in the title, \
                           description, long description, category or author name (at most \
                           the first 8 words are used); absent, blank or without letters and \
                           digits: the catalog in `popular` order"),
        ("type" = inline(Option<ListingType>), Query,
            description = "Only skills or only agents; both when absent"),
        ("category" = Option<String>, Query, max_length = 64, pattern = "^[a-z0-9-]+$",
            description = "A category slug; an unknown category matches nothing; all when \
                           absent"),
        ("source" = Option<String>, Query, max_length = 50, pattern = "^[A-Za-z0-9_-]+$",
            description = "`agentpowers`, `all` or absent: this server's section; the name of \
                           any other source: that one section, empty"),
        PageQuery,
    ),
    responses(
        (status = 200, description = "An object keyed by source, nothing else at the top \
            level: `agentpowers` (or the one other source asked for) with a page of matches, \
            best first", body = SearchSections),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    ),
    security((), ("bearer" = [])),
)]
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
#[utoipa::path(
    method(get, head),
    path = "/v1/detail/{slug}",
    tag = "catalog",
    params(
        ("slug" = String, Path, description = "The listing's slug"),
        ("source" = Option<String>, Query,
            description = "`agentpowers` or absent; any other value answers 404"),
    ),
    responses(
        (status = 200, description = "The flat detail the plugins show before an install; \
            counts a view, once per visitor (the signed-in user, or else the client address) \
            and listing a day", body = UnifiedDetail),
        (status = "default", description = "An error in the contract's envelope (404 \
            `SKILL_NOT_FOUND` for an unknown or not live listing, also to its owner, or \
            another `source`)", body = ErrorBody),
    ),
    security((), ("bearer" = [])),
)]
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
#[utoipa::path(
    method(get, head),
    path = "/v1/categories",
    tag = "catalog",
    responses(
        (status = 200, description = "Every category in a fixed order with its count of live \
            listings. With `Accept: text/plain` (and no `application/json` in the header): \
            `text/plain; charset=utf-8`, one line per category, `slug<TAB>count<TAB>name`",
            content((CategoriesResponse = "application/json"), (String = "text/plain"))),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    ),
    security((), ("bearer" = [])),
)]
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
#[utoipa::path(
    method(get, head),
    path = "/v1/platforms",
    tag = "catalog",
    responses(
        (status = 200, description = "The supported install targets, in a fixed order",
            body = PlatformsResponse),
        (status = "default", description = "An error in the contract's envelope", body = ErrorBody),
    ),
    security((), ("bearer" = [])),
)]
pub async fn list_platforms() -> Json<PlatformsResponse> {
    let platforms = platform::all();
    Json(PlatformsResponse { total: platforms.len(), platforms })
}
