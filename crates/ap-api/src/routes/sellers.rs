//! Public seller pages: `GET /v1/sellers`, `GET /v1/sellers/{slug}`,
//! `GET /v1/sellers/{slug}/skills`. A seller is a user with at least one live listing.

use actix_web::web::{Data, Json, Path};
use ap_domain::Code;
use ap_domain::page::{Page, PageRequest};
use ap_domain::wire::{SellerListing, SellerProfile, SellerSkill, SellerSummary};
use ap_store::catalog;
use ap_store::models::User;
use ap_store::sellers::{self, SellerStats};

use crate::error::ApiError;
use crate::present;
use crate::query::{RawQuery, param};
use crate::state::AppState;

/// Most listings shown on a seller's profile; the rest page through `/skills`.
const PROFILE_SKILLS: i64 = 100;

fn not_found() -> ApiError {
    ApiError::coded(Code::SellerNotFound, "Seller not found")
}

fn seller_summary(user: &User, stats: SellerStats) -> SellerSummary {
    SellerSummary {
        display_name: user.display_name.clone().unwrap_or_default(),
        display_name_slug: user.display_name_slug.clone().unwrap_or_default(),
        avatar_url: user.avatar_url.clone(),
        verified: user.verified,
        total_skills: stats.total_skills,
        total_downloads: stats.total_downloads,
        joined_at: present::utc(user.created_at),
    }
}

/// `GET /v1/sellers`: sellers, most downloaded first.
pub async fn list_sellers(
    state: Data<AppState>,
    query: RawQuery,
) -> Result<Json<Page<SellerSummary>>, ApiError> {
    let page = PageRequest::parse(param(&query, "limit"), param(&query, "offset"))?;
    let (rows, total) = state.db().run(move |c| sellers::page(c, page.limit, page.offset)).await?;
    let items = rows.iter().map(|(user, stats)| seller_summary(user, *stats)).collect();
    Ok(Json(Page::new(items, total, page)))
}

/// `GET /v1/sellers/{slug}`: a seller's public profile with their live listings.
pub async fn get_seller(
    state: Data<AppState>,
    slug: Path<String>,
) -> Result<Json<SellerProfile>, ApiError> {
    let slug = slug.into_inner();
    let (user, stats, listings) = state
        .db()
        .run(move |c| {
            let Some((user, stats)) = sellers::by_slug(c, &slug)? else { return Ok(None) };
            let (ids, _) = sellers::listing_ids(c, &user.id, PROFILE_SKILLS, 0)?;
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            let listings = catalog::cards_with_authors(c, &ids)?;
            Ok(Some((user, stats, listings)))
        })
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(SellerProfile {
        summary: seller_summary(&user, stats),
        bio: user.bio.clone(),
        website_url: user.website_url.clone(),
        github_url: user.github_url.clone(),
        linkedin_url: user.linkedin_url.clone(),
        twitter_url: user.twitter_url.clone(),
        skills: listings
            .into_iter()
            .map(|(l, _)| SellerSkill {
                slug: l.slug,
                title: l.title,
                price_cents: l.price_cents,
                download_count: l.download_count,
            })
            .collect(),
    }))
}

/// `GET /v1/sellers/{slug}/skills`: a page of a seller's live listings with scan results.
pub async fn list_seller_skills(
    state: Data<AppState>,
    slug: Path<String>,
    query: RawQuery,
) -> Result<Json<Page<SellerListing>>, ApiError> {
    let page = PageRequest::parse(param(&query, "limit"), param(&query, "offset"))?;
    let slug = slug.into_inner();
    let (rows, versions, total) = state
        .db()
        .run(move |c| {
            let Some((user, _)) = sellers::by_slug(c, &slug)? else { return Ok(None) };
            let (ids, total) = sellers::listing_ids(c, &user.id, page.limit, page.offset)?;
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            let rows = catalog::cards_with_authors(c, &ids)?;
            let live: Vec<&str> =
                rows.iter().filter_map(|(l, _)| l.live_version_id.as_deref()).collect();
            let versions = catalog::versions_by_ids(c, &live)?;
            Ok(Some((rows, versions, total)))
        })
        .await?
        .ok_or_else(not_found)?;
    let items = rows
        .iter()
        .map(|(listing, owner)| {
            let live = listing.live_version_id.as_ref().and_then(|id| versions.get(id));
            Ok(SellerListing {
                summary: present::summary(listing, owner),
                security_findings: present::findings(live)?,
                security_score: listing.security_score,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(Json(Page::new(items, total, page)))
}
