//! Row types (`Listing`) and their insertable twins (`NewListing`).

use ap_domain::listing::{ListingType, SecurityStatus, VersionStatus};
use ap_domain::{ListingId, UserId, VersionId};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{categories, listing_versions, listings, users};
use crate::types::{Stored, StoredOption};

/// A user: buyer, seller or both.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: UserId,
    pub identity_issuer: String,
    pub identity_subject: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub display_name_slug: Option<String>,
    pub github_username: Option<String>,
    pub bio: Option<String>,
    pub website_url: Option<String>,
    pub github_url: Option<String>,
    pub linkedin_url: Option<String>,
    pub twitter_url: Option<String>,
    pub avatar_url: Option<String>,
    pub verified: bool,
    pub account_status: String,
    pub deletion_scheduled_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub erased_at: Option<NaiveDateTime>,
}

/// A user to create.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser {
    pub id: String,
    pub identity_issuer: String,
    pub identity_subject: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub display_name_slug: Option<String>,
    pub github_username: Option<String>,
    pub bio: Option<String>,
    pub website_url: Option<String>,
    pub github_url: Option<String>,
    pub linkedin_url: Option<String>,
    pub twitter_url: Option<String>,
    pub avatar_url: Option<String>,
    pub verified: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl NewUser {
    /// A user known by an identity and what its issuer says, with no profile yet.
    pub fn new(
        issuer: &str,
        subject: &str,
        email: Option<String>,
        name: Option<String>,
        now: NaiveDateTime,
    ) -> Self {
        NewUser {
            id: uuid::Uuid::now_v7().to_string(),
            identity_issuer: issuer.to_owned(),
            identity_subject: subject.to_owned(),
            email,
            name,
            display_name: None,
            display_name_slug: None,
            github_username: None,
            bio: None,
            website_url: None,
            github_url: None,
            linkedin_url: None,
            twitter_url: None,
            avatar_url: None,
            verified: false,
            created_at: now,
            updated_at: now,
        }
    }
}

/// A category of the catalog.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = categories)]
pub struct Category {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub icon: String,
    /// JSON array of strings.
    pub sample_keywords: String,
    pub position: i32,
}

/// The columns of a listing that lists and summaries show.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = listings)]
pub struct ListingCard {
    #[diesel(deserialize_as = Stored<ListingId>)]
    pub id: ListingId,
    pub slug: String,
    #[diesel(deserialize_as = Stored<UserId>)]
    pub owner_id: UserId,
    #[diesel(deserialize_as = Stored<ListingType>)]
    pub listing_type: ListingType,
    pub title: String,
    pub description: String,
    pub category: String,
    pub price_cents: i64,
    pub currency: String,
    #[diesel(deserialize_as = StoredOption<VersionId>)]
    pub live_version_id: Option<VersionId>,
    pub current_version: Option<String>,
    #[diesel(deserialize_as = Stored<SecurityStatus>)]
    pub security_status: SecurityStatus,
    pub security_score: Option<i32>,
    pub archived_at: Option<NaiveDateTime>,
    pub published_at: Option<NaiveDateTime>,
    pub download_count: i64,
    pub install_count: i64,
    pub rating_count: i64,
    pub rating_average: f64,
    pub updated_at: NaiveDateTime,
    pub quarantined_at: Option<NaiveDateTime>,
}

impl ListingCard {
    /// Visible to everyone: not archived and with a version that passed its scan.
    pub fn is_live(&self) -> bool {
        self.archived_at.is_none() && self.live_version_id.is_some()
    }
}

/// The columns of a listing that only its detail shows.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = listings)]
pub struct ListingExtra {
    pub long_description: String,
    pub view_count: i64,
    pub created_at: NaiveDateTime,
}

/// The public columns of a user shown as a listing's author.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct AuthorRow {
    #[diesel(deserialize_as = Stored<UserId>)]
    pub id: UserId,
    pub display_name: Option<String>,
    pub display_name_slug: Option<String>,
    pub avatar_url: Option<String>,
    pub github_username: Option<String>,
    pub verified: bool,
}

/// A listing to create (no live version yet).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = listings)]
pub struct NewListing {
    pub id: String,
    pub slug: String,
    pub owner_id: String,
    pub listing_type: String,
    pub title: String,
    pub description: String,
    pub long_description: String,
    pub category: String,
    pub price_cents: i64,
    pub currency: String,
    pub download_count: i64,
    pub install_count: i64,
    pub view_count: i64,
    pub rating_sum: i64,
    pub rating_count: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// One version of a listing.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = listing_versions)]
pub struct ListingVersion {
    #[diesel(deserialize_as = Stored<VersionId>)]
    pub id: VersionId,
    #[diesel(deserialize_as = Stored<ListingId>)]
    pub listing_id: ListingId,
    pub version: String,
    pub major: i32,
    pub minor: i32,
    pub patch: i32,
    #[diesel(deserialize_as = Stored<VersionStatus>)]
    pub status: VersionStatus,
    pub changelog: Option<String>,
    pub archive_sha256: Option<String>,
    pub content_hash: Option<String>,
    pub size_bytes: Option<i64>,
    #[diesel(deserialize_as = StoredOption<SecurityStatus>)]
    pub security_status: Option<SecurityStatus>,
    pub security_score: Option<i32>,
    /// JSON array of findings.
    pub findings: Option<String>,
    /// JSON array of scan layers.
    pub layers: Option<String>,
    pub scanned_at: Option<NaiveDateTime>,
    pub published_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    /// When an upload into this pending version started its scan (its claim).
    pub upload_started_at: Option<NaiveDateTime>,
}

/// The columns of a version that a listing's detail and a seller's page show: not its
/// archive, scan layers or upload state (a detail reads them for every version).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = listing_versions)]
pub struct VersionCard {
    #[diesel(deserialize_as = Stored<VersionId>)]
    pub id: VersionId,
    pub version: String,
    pub changelog: Option<String>,
    pub content_hash: Option<String>,
    #[diesel(deserialize_as = StoredOption<SecurityStatus>)]
    pub security_status: Option<SecurityStatus>,
    /// JSON array of findings.
    pub findings: Option<String>,
    pub scanned_at: Option<NaiveDateTime>,
    pub published_at: Option<NaiveDateTime>,
}

impl VersionCard {
    /// The stored findings, or an empty list.
    pub fn findings_json(&self) -> Result<Vec<serde_json::Value>, serde_json::Error> {
        self.findings.as_deref().map_or(Ok(Vec::new()), serde_json::from_str)
    }
}

/// A version to create.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = listing_versions)]
pub struct NewListingVersion {
    pub id: String,
    pub listing_id: String,
    pub version: String,
    pub major: i32,
    pub minor: i32,
    pub patch: i32,
    pub status: String,
    pub changelog: Option<String>,
    pub archive_sha256: Option<String>,
    pub content_hash: Option<String>,
    pub size_bytes: Option<i64>,
    pub security_status: Option<String>,
    pub security_score: Option<i32>,
    pub findings: Option<String>,
    pub layers: Option<String>,
    pub scanned_at: Option<NaiveDateTime>,
    pub published_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    /// When an upload into this pending version started its scan (its claim).
    pub upload_started_at: Option<NaiveDateTime>,
}

impl NewListingVersion {
    /// A live, passing 1.0.0 version of `listing_id` published at `at`, with no archive
    /// behind it: synthetic catalogs of benchmarks and tests.
    pub fn synthetic_live(listing_id: &str, at: NaiveDateTime) -> Self {
        NewListingVersion {
            id: uuid::Uuid::now_v7().to_string(),
            listing_id: listing_id.to_owned(),
            version: "1.0.0".to_owned(),
            major: 1,
            minor: 0,
            patch: 0,
            status: VersionStatus::Live.as_str().to_owned(),
            changelog: None,
            archive_sha256: Some("ab".repeat(32)),
            content_hash: None,
            size_bytes: Some(1),
            security_status: Some(SecurityStatus::Pass.as_str().to_owned()),
            security_score: Some(10),
            findings: Some("[]".to_owned()),
            layers: Some("[]".to_owned()),
            scanned_at: Some(at),
            published_at: Some(at),
            created_at: at,
            upload_started_at: None,
        }
    }
}
