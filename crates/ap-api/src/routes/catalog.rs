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

use std::sync::Arc;

use crate::auth::MaybeAuthenticated;
use crate::cache::LiveDetail;
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

/// One page of live listings with their total (totals and summaries come from the cache
/// when fresh).
pub async fn catalog_page(
    state: &AppState,
    filter: CatalogFilter,
    sort: SortOrder,
    page: PageRequest,
) -> Result<Page<Arc<ListingSummary>>, ApiError> {
    let count_filter = filter.clone();
    let total = state
        .cache()
        .total(filter.clone(), state.db().run(move |conn| catalog::count_live(conn, &count_filter)))
        .await?;
    let query_state = state.clone();
    let items = state
        .db()
        .run(move |conn| {
            let ids = catalog::page_ids(conn, &filter, sort, page)?;
            present::summaries(&query_state, conn, &ids)
        })
        .await?;
    Ok(Page::new(items, total, page))
}

async fn list(
    state: Data<AppState>,
    query: RawQuery,
    forced: Option<ListingType>,
) -> Result<Json<Page<Arc<ListingSummary>>>, ApiError> {
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
) -> Result<Json<Page<Arc<ListingSummary>>>, ApiError> {
    list(state, query, None).await
}

/// `GET /v1/agents`: a page of live agents.
pub async fn list_agents(
    state: Data<AppState>,
    query: RawQuery,
) -> Result<Json<Page<Arc<ListingSummary>>>, ApiError> {
    list(state, query, Some(ListingType::Agent)).await
}

/// The answer for a slug nobody may see.
pub fn not_found() -> ApiError {
    ApiError::coded(Code::SkillNotFound, "Skill not found")
}

/// The detail of a live listing (optionally of one type), cached.
pub async fn load_live(
    state: &AppState,
    slug: &str,
    kind: Option<ListingType>,
) -> Result<Arc<LiveDetail>, ApiError> {
    let slug = Slug::parse(slug).map_err(|_| not_found())?;
    if let Some(cached) = state.cache().detail(slug.as_str(), kind) {
        return Ok(cached);
    }
    let generation = state.cache().current_generation();
    let key = slug.as_str().to_owned();
    let (card, extra, owner, versions) = state
        .db()
        .run(move |conn| {
            let Some((card, extra)) =
                catalog::listing_by_slug(conn, slug.as_str(), kind)?.filter(|(c, _)| c.is_live())
            else {
                return Ok(None);
            };
            let owner = catalog::author(conn, &card.owner_id)?;
            let versions = catalog::live_versions(conn, &card.id)?;
            Ok(Some((card, extra, owner, versions)))
        })
        .await?
        .ok_or_else(not_found)?;
    let live = versions.iter().find(|v| Some(&v.id) == card.live_version_id.as_ref());
    let detail = Arc::new(LiveDetail {
        listing_id: card.id.clone(),
        detail: present::detail(&card, &extra, &owner, &versions)?,
        created_at: present::utc(extra.created_at),
        scan_hash: live.and_then(|v| v.content_hash.clone()),
        scanned_at: live.and_then(|v| v.scanned_at).map(present::utc),
    });
    state.cache().store_detail(key, kind, Arc::clone(&detail), generation);
    Ok(detail)
}

/// The detail of a listing that is not live, for its owner (who sees `archived_at`).
async fn owner_view(
    state: &AppState,
    slug: String,
    kind: Option<ListingType>,
    user_id: String,
) -> Result<ListingDetail, ApiError> {
    let found = state
        .db()
        .run(move |conn| {
            let Some((card, extra)) =
                catalog::listing_by_slug(conn, &slug, kind)?.filter(|(c, _)| c.owner_id == user_id)
            else {
                return Ok(None);
            };
            let owner = catalog::author(conn, &card.owner_id)?;
            let versions = catalog::live_versions(conn, &card.id)?;
            Ok(Some((card, extra, owner, versions)))
        })
        .await?;
    let (card, extra, owner, versions) = found.ok_or_else(not_found)?;
    present::detail(&card, &extra, &owner, &versions)
}

async fn get(
    state: Data<AppState>,
    slug: Path<String>,
    kind: Option<ListingType>,
    caller: MaybeAuthenticated,
) -> Result<Json<ListingDetail>, ApiError> {
    match (load_live(&state, &slug, kind).await, caller.0) {
        (Ok(live), _) => Ok(Json(live.detail.clone())),
        (Err(e), Some(caller)) if e.code() == Code::SkillNotFound => {
            Ok(Json(owner_view(&state, slug.into_inner(), kind, caller.user_id).await?))
        }
        (Err(e), _) => Err(e),
    }
}

/// `GET /v1/skills/{slug}`: the detail of a live skill or agent (or of any of the
/// caller's own listings).
pub async fn get_skill(
    state: Data<AppState>,
    slug: Path<String>,
    caller: MaybeAuthenticated,
) -> Result<Json<ListingDetail>, ApiError> {
    get(state, slug, None, caller).await
}

/// `GET /v1/agents/{slug}`: the detail of a live agent (a skill's slug is 404 here).
pub async fn get_agent(
    state: Data<AppState>,
    slug: Path<String>,
    caller: MaybeAuthenticated,
) -> Result<Json<ListingDetail>, ApiError> {
    get(state, slug, Some(ListingType::Agent), caller).await
}
