//! `GET /v1/skills`, `GET /v1/skills/{slug}` and the `/v1/agents` twins (type forced to
//! `agent`).

use actix_web::web::{Data, Json, Path};
use ap_domain::listing::{
    CatalogFilter, ListingType, PriceFilter, SortOrder, parse_category, parse_choice,
};
use ap_domain::page::{Page, PageRequest};
use ap_domain::slug::Slug;
use ap_domain::wire::{ListingDetail, ListingSummary};
use ap_domain::{Code, FieldErrors};
use ap_store::catalog;
use ap_store::models::{Listing, ListingVersion, User};

use crate::error::ApiError;
use crate::present;
use crate::query::{RawQuery, param};
use crate::state::AppState;

/// The parsed parameters of a catalog list.
#[derive(Debug, Clone)]
pub struct CatalogQuery {
    /// Type, category and price filters.
    pub filter: CatalogFilter,
    /// Order.
    pub sort: SortOrder,
    /// Page.
    pub page: PageRequest,
}

/// Parses `type`, `category`, `sort`, `price`, `limit` and `offset`, reporting every bad
/// value at once.
pub fn parse_catalog_query(query: &RawQuery) -> Result<CatalogQuery, ApiError> {
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
    Ok(errors.finish(|| CatalogQuery {
        filter: CatalogFilter {
            listing_type: kind.flatten(),
            category: category.flatten(),
            price: price.flatten(),
        },
        sort: sort.flatten().unwrap_or_default(),
        page: page.unwrap_or_default(),
    })?)
}

/// One page of live listings with their total (the total comes from the cache when fresh).
pub async fn catalog_page(
    state: &AppState,
    filter: CatalogFilter,
    sort: SortOrder,
    page: PageRequest,
) -> Result<Page<ListingSummary>, ApiError> {
    let cached_total = state.cache().total(&filter);
    let generation = state.cache().current_generation();
    let query_filter = filter.clone();
    let (rows, total) = state
        .db()
        .run(move |conn| {
            let ids = catalog::page_ids(conn, &query_filter, sort, page)?;
            let rows = catalog::listings_with_authors(conn, &ids)?;
            let total = match cached_total {
                Some(total) => total,
                None => catalog::count_live(conn, &query_filter)?,
            };
            Ok((rows, total))
        })
        .await?;
    if cached_total.is_none() {
        state.cache().store_total(filter, total, generation);
    }
    let items = rows.iter().map(|(listing, owner)| present::summary(listing, owner)).collect();
    Ok(Page::new(items, total, page))
}

async fn list(
    state: Data<AppState>,
    query: RawQuery,
    forced: Option<ListingType>,
) -> Result<Json<Page<ListingSummary>>, ApiError> {
    let mut parsed = parse_catalog_query(&query)?;
    if forced.is_some() {
        parsed.filter.listing_type = forced;
    }
    Ok(Json(catalog_page(&state, parsed.filter, parsed.sort, parsed.page).await?))
}

/// `GET /v1/skills`: a page of live listings (skills and agents unless `type` says).
pub async fn list_skills(
    state: Data<AppState>,
    query: RawQuery,
) -> Result<Json<Page<ListingSummary>>, ApiError> {
    list(state, query, None).await
}

/// `GET /v1/agents`: a page of live agents.
pub async fn list_agents(
    state: Data<AppState>,
    query: RawQuery,
) -> Result<Json<Page<ListingSummary>>, ApiError> {
    list(state, query, Some(ListingType::Agent)).await
}

/// The answer for a slug nobody may see.
pub fn not_found() -> ApiError {
    ApiError::coded(Code::SkillNotFound, "Skill not found")
}

/// A live listing (optionally of one type) with its owner and live versions; counts a
/// detail view when asked and answers the new view count.
pub async fn load_live(
    state: &AppState,
    slug: &str,
    kind: Option<ListingType>,
    count_view: bool,
) -> Result<(Listing, User, Vec<ListingVersion>, i64), ApiError> {
    let slug = Slug::parse(slug).map_err(|_| not_found())?;
    state
        .db()
        .run(move |conn| {
            let Some(listing) =
                catalog::listing_by_slug(conn, slug.as_str(), kind)?.filter(Listing::is_live)
            else {
                return Ok(None);
            };
            let owner = catalog::user_by_id(conn, &listing.owner_id)?;
            let versions = catalog::live_versions(conn, &listing.id)?;
            let views = if count_view {
                catalog::count_view(conn, &listing.id)?
            } else {
                listing.view_count
            };
            Ok(Some((listing, owner, versions, views)))
        })
        .await?
        .ok_or_else(not_found)
}

async fn get(
    state: Data<AppState>,
    slug: Path<String>,
    kind: Option<ListingType>,
) -> Result<Json<ListingDetail>, ApiError> {
    let (listing, owner, versions, _) = load_live(&state, &slug, kind, false).await?;
    Ok(Json(present::detail(&listing, &owner, &versions)?))
}

/// `GET /v1/skills/{slug}`: the detail of a live skill or agent.
pub async fn get_skill(
    state: Data<AppState>,
    slug: Path<String>,
) -> Result<Json<ListingDetail>, ApiError> {
    get(state, slug, None).await
}

/// `GET /v1/agents/{slug}`: the detail of a live agent (a skill's slug is 404 here).
pub async fn get_agent(
    state: Data<AppState>,
    slug: Path<String>,
) -> Result<Json<ListingDetail>, ApiError> {
    get(state, slug, Some(ListingType::Agent)).await
}
