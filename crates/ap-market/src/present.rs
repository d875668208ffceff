//! Turning rows into the contract's wire shapes.

use std::sync::Arc;

use ap_domain::listing::{ListingType, SecurityStatus};
use ap_domain::platform;
use ap_domain::wire::{Author, ListingDetail, ListingSummary, NATIVE_SOURCE, VersionInfo};
use ap_store::models::{AuthorRow, ListingCard, ListingExtra, VersionCard};
use ap_store::{Conn, StoreError, catalog};
use chrono::{DateTime, NaiveDateTime, Utc};

use crate::cache::CatalogCache;

/// A stored UTC timestamp as an RFC 3339 value.
pub fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

/// The public face of a user as an author.
pub fn author(row: &AuthorRow) -> Author {
    Author {
        display_name: row.display_name.clone().unwrap_or_default(),
        display_name_slug: row.display_name_slug.clone().unwrap_or_default(),
        avatar_url: row.avatar_url.clone(),
        github_username: row.github_username.clone(),
        verified: row.verified,
    }
}

/// A listing summary.
pub fn summary(card: &ListingCard, owner: &AuthorRow) -> ListingSummary {
    ListingSummary {
        slug: card.slug.clone(),
        title: card.title.clone(),
        description: card.description.clone(),
        category: card.category.clone(),
        listing_type: card.listing_type,
        price_cents: card.price_cents,
        currency: card.currency.clone(),
        version: card.current_version.clone(),
        security_status: card.security_status,
        source: NATIVE_SOURCE.to_owned(),
        download_count: card.download_count,
        install_count: card.install_count,
        rating_average: (card.rating_count > 0).then_some(card.rating_average),
        rating_count: card.rating_count,
        author: author(owner),
        published_at: card.published_at.map(utc),
        updated_at: utc(card.updated_at),
    }
}

/// Summaries of these listings, in order: from the cache where fresh, the rest read in
/// one query and cached. Runs inside a unit of work.
pub fn summaries(
    cache: &CatalogCache,
    conn: &mut Conn,
    ids: &[String],
) -> Result<Vec<Arc<ListingSummary>>, StoreError> {
    let generation = cache.current_generation();
    let mut found: Vec<Option<Arc<ListingSummary>>> =
        ids.iter().map(|id| cache.summary(id)).collect();
    let missing: Vec<&str> =
        ids.iter().zip(&found).filter(|(_, s)| s.is_none()).map(|(id, _)| id.as_str()).collect();
    if !missing.is_empty() {
        for (card, owner) in catalog::cards_with_authors(conn, &missing)? {
            let summary = Arc::new(summary(&card, &owner));
            if let Some(slot) = ids.iter().position(|id| card.id == *id.as_str()) {
                found[slot] = Some(Arc::clone(&summary));
            }
            cache.store_summary(card.id.into_string(), summary, generation);
        }
    }
    Ok(found.into_iter().flatten().collect())
}

/// The stored findings of a version.
pub fn findings(version: Option<&VersionCard>) -> Result<Vec<serde_json::Value>, StoreError> {
    Ok(version.map(VersionCard::findings_json).transpose()?.unwrap_or_default())
}

/// The full detail of a listing; `versions` are its live versions, newest first.
pub fn detail(
    card: &ListingCard,
    extra: &ListingExtra,
    owner: &AuthorRow,
    versions: &[VersionCard],
) -> Result<ListingDetail, StoreError> {
    let live = versions.iter().find(|v| Some(&v.id) == card.live_version_id.as_ref());
    let kind = card.listing_type;
    let platforms = platform::all()
        .into_iter()
        .filter(|p| match kind {
            ListingType::Skill => p.supports_skills,
            ListingType::Agent => p.supports_agents,
        })
        .map(|p| p.id)
        .collect();
    Ok(ListingDetail {
        summary: summary(card, owner),
        long_description: extra.long_description.clone(),
        current_version: card.current_version.clone(),
        name: card.title.clone(),
        security_score: card.security_score,
        security_findings: findings(live)?,
        platforms,
        archived_at: card.archived_at.map(utc),
        versions: versions
            .iter()
            .map(|v| VersionInfo {
                version: v.version.clone(),
                published_at: v.published_at.map(utc),
                security_status: v.security_status.unwrap_or(SecurityStatus::Pending),
                changelog: v.changelog.clone(),
            })
            .collect(),
    })
}
