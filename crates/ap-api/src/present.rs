//! Turning rows into the contract's wire shapes.

use ap_domain::listing::{ListingType, SecurityStatus};
use ap_domain::platform;
use ap_domain::wire::{Author, ListingDetail, ListingSummary, NATIVE_SOURCE, VersionInfo};
use ap_store::models::{Listing, ListingVersion, User};
use chrono::{DateTime, NaiveDateTime, Utc};

use crate::error::ApiError;

/// A stored UTC timestamp as an RFC 3339 value.
pub fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

/// The public face of a user as an author.
pub fn author(user: &User) -> Author {
    Author {
        display_name: user.display_name.clone().unwrap_or_default(),
        display_name_slug: user.display_name_slug.clone().unwrap_or_default(),
        avatar_url: user.avatar_url.clone(),
        github_username: user.github_username.clone(),
        verified: user.verified,
    }
}

/// The stored type; the database CHECK admits only `skill` and `agent`.
pub fn listing_type(listing: &Listing) -> ListingType {
    ListingType::parse(&listing.listing_type).unwrap_or(ListingType::Skill)
}

/// A listing summary.
pub fn summary(listing: &Listing, owner: &User) -> ListingSummary {
    ListingSummary {
        slug: listing.slug.clone(),
        title: listing.title.clone(),
        description: listing.description.clone(),
        category: listing.category.clone(),
        listing_type: listing_type(listing),
        price_cents: listing.price_cents,
        currency: listing.currency.clone(),
        version: listing.current_version.clone(),
        security_status: SecurityStatus::from_db(&listing.security_status),
        source: NATIVE_SOURCE.to_owned(),
        download_count: listing.download_count,
        install_count: listing.install_count,
        rating_average: (listing.rating_count > 0).then_some(listing.rating_average),
        rating_count: listing.rating_count,
        author: author(owner),
        published_at: listing.published_at.map(utc),
        updated_at: utc(listing.updated_at),
    }
}

/// The stored findings of a version.
pub fn findings(version: Option<&ListingVersion>) -> Result<Vec<serde_json::Value>, ApiError> {
    version
        .map(ListingVersion::findings_json)
        .transpose()
        .map(Option::unwrap_or_default)
        .map_err(|e| ApiError::Internal(format!("stored findings: {e}")))
}

/// The full detail of a listing; `versions` are its live versions, newest first.
pub fn detail(
    listing: &Listing,
    owner: &User,
    versions: &[ListingVersion],
) -> Result<ListingDetail, ApiError> {
    let live = versions.iter().find(|v| Some(&v.id) == listing.live_version_id.as_ref());
    let kind = listing_type(listing);
    let platforms = platform::all()
        .into_iter()
        .filter(|p| match kind {
            ListingType::Skill => p.supports_skills,
            ListingType::Agent => p.supports_agents,
        })
        .map(|p| p.id)
        .collect();
    Ok(ListingDetail {
        summary: summary(listing, owner),
        long_description: listing.long_description.clone(),
        current_version: listing.current_version.clone(),
        name: listing.title.clone(),
        security_score: listing.security_score,
        security_findings: findings(live)?,
        platforms,
        archived_at: listing.archived_at.map(utc),
        versions: versions
            .iter()
            .map(|v| VersionInfo {
                version: v.version.clone(),
                published_at: v.published_at.map(utc),
                security_status: SecurityStatus::from_db(
                    v.security_status.as_deref().unwrap_or(""),
                ),
                changelog: v.changelog.clone(),
            })
            .collect(),
    })
}
