//! Writes of the publishing lifecycle: users, listings, versions and their scan outcome,
//! unpublishing. Multi-row changes are meant to run inside [`crate::write_tx`].

use ap_domain::listing::{SecurityStatus, VersionStatus};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::conn::Conn;
use crate::error::StoreError;
use crate::models::{ListingVersion, NewListing, NewListingVersion, NewUser};
use crate::schema::{listing_versions, listings, seller_accounts, users};

/// Creates a user.
pub fn insert_user(conn: &mut Conn, user: &NewUser) -> Result<(), StoreError> {
    diesel::insert_into(users::table).values(user).execute(conn)?;
    Ok(())
}

/// Creates a listing (not yet live).
pub fn insert_listing(conn: &mut Conn, listing: &NewListing) -> Result<(), StoreError> {
    diesel::insert_into(listings::table).values(listing).execute(conn)?;
    Ok(())
}

/// Whether any listing (of any type, in any state) has this slug.
pub fn slug_exists(conn: &mut Conn, slug: &str) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(listings::table.filter(listings::slug.eq(slug))))
        .get_result(conn)?)
}

/// Whether the user's seller account can receive payouts.
pub fn payouts_enabled(conn: &mut Conn, user_id: &str) -> Result<bool, StoreError> {
    Ok(seller_accounts::table
        .find(user_id)
        .select(seller_accounts::payouts_enabled)
        .first(conn)
        .optional()?
        .unwrap_or(false))
}

/// Every version of a listing, whatever its status.
pub fn versions(conn: &mut Conn, listing_id: &str) -> Result<Vec<ListingVersion>, StoreError> {
    Ok(listing_versions::table
        .filter(listing_versions::listing_id.eq(listing_id))
        .select(ListingVersion::as_select())
        .load(conn)?)
}

/// Creates a version (pending, or already scanned).
pub fn insert_version(conn: &mut Conn, version: &NewListingVersion) -> Result<(), StoreError> {
    diesel::insert_into(listing_versions::table).values(version).execute(conn)?;
    Ok(())
}

/// Puts a blocked version back to pending (a `PATCH` asked for its number again).
pub fn reopen_version(
    conn: &mut Conn,
    version_id: &str,
    changelog: Option<&str>,
) -> Result<(), StoreError> {
    // A version served once (blocked later by a rescan) is never filled again.
    let changed = diesel::update(listing_versions::table.find(version_id))
        .filter(listing_versions::status.eq(VersionStatus::Blocked.as_str()))
        .filter(listing_versions::published_at.is_null())
        .set((
            listing_versions::status.eq(VersionStatus::Pending.as_str()),
            listing_versions::changelog.eq(changelog),
        ))
        .execute(conn)?;
    if changed == 1 { Ok(()) } else { Err(StoreError::Conflict("listing_versions".to_owned())) }
}

/// Claims a pending version for an upload whose archive is being scanned; answers
/// whether the version was still pending.
pub fn claim_upload(
    conn: &mut Conn,
    version_id: &str,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let changed = diesel::update(listing_versions::table.find(version_id))
        .filter(listing_versions::status.eq(VersionStatus::Pending.as_str()))
        .set(listing_versions::upload_started_at.eq(now))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Drops the claim of an upload that failed before recording its archive.
pub fn release_upload(conn: &mut Conn, version_id: &str) -> Result<(), StoreError> {
    diesel::update(listing_versions::table.find(version_id))
        .filter(listing_versions::status.eq(VersionStatus::Pending.as_str()))
        .set(listing_versions::upload_started_at.eq(None::<NaiveDateTime>))
        .execute(conn)?;
    Ok(())
}

/// Deletes a pending version that never received its archive (a `PATCH` replaces it).
pub fn delete_pending(conn: &mut Conn, version_id: &str) -> Result<(), StoreError> {
    diesel::delete(listing_versions::table.find(version_id))
        .filter(listing_versions::status.eq(VersionStatus::Pending.as_str()))
        .execute(conn)?;
    Ok(())
}

/// Listing fields a `PATCH` changes (`None` keeps the stored value).
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = listings)]
pub struct ListingFieldChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub long_description: Option<String>,
    pub category: Option<String>,
    pub price_cents: Option<i64>,
}

/// Applies `changes` to a listing.
pub fn update_listing(
    conn: &mut Conn,
    listing_id: &str,
    changes: &ListingFieldChanges,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::update(listings::table.find(listing_id))
        .set((changes, listings::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

/// What the scan of an uploaded archive decided.
#[derive(Debug, Clone)]
pub struct ScannedArchive {
    /// `pass`, `warn` or `block`.
    pub security_status: SecurityStatus,
    /// 0–10.
    pub security_score: i32,
    /// SHA-256 of the archive bytes.
    pub archive_sha256: String,
    /// Content hash of its files.
    pub content_hash: Option<String>,
    /// Archive size.
    pub size_bytes: i64,
    /// JSON array of findings.
    pub findings: String,
    /// JSON array of layers.
    pub layers: String,
}

impl ScannedArchive {
    /// Whether the version goes live.
    pub fn is_live(&self) -> bool {
        self.security_status != SecurityStatus::Block
    }
}

/// Records an upload into an existing pending or blocked version. Answers `Conflict` when
/// the version went live meanwhile (versions are immutable).
pub fn record_upload(
    conn: &mut Conn,
    version_id: &str,
    scan: &ScannedArchive,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    let status = if scan.is_live() { VersionStatus::Live } else { VersionStatus::Blocked };
    let changed = diesel::update(listing_versions::table.find(version_id))
        .filter(listing_versions::status.ne(VersionStatus::Live.as_str()))
        .set((
            listing_versions::status.eq(status.as_str()),
            listing_versions::archive_sha256.eq(&scan.archive_sha256),
            listing_versions::content_hash.eq(&scan.content_hash),
            listing_versions::size_bytes.eq(scan.size_bytes),
            listing_versions::security_status.eq(scan.security_status.as_str()),
            listing_versions::security_score.eq(scan.security_score),
            listing_versions::findings.eq(&scan.findings),
            listing_versions::layers.eq(&scan.layers),
            listing_versions::scanned_at.eq(now),
            listing_versions::published_at.eq(scan.is_live().then_some(now)),
        ))
        .execute(conn)?;
    if changed == 1 { Ok(()) } else { Err(StoreError::Conflict("listing_versions".to_owned())) }
}

/// Records a version that passed its scan and makes it the listing's live version (test
/// fixtures with made-up scan results). Run it inside a transaction.
pub fn insert_live_version(
    conn: &mut Conn,
    version: &NewListingVersion,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    insert_version(conn, version)?;
    let updated = diesel::update(listings::table.find(&version.listing_id))
        .set((
            listings::live_version_id.eq(&version.id),
            listings::current_version.eq(&version.version),
            listings::security_status.eq(version.security_status.as_deref().unwrap_or("pass")),
            listings::security_score.eq(version.security_score),
            listings::updated_at.eq(now),
        ))
        .execute(conn)?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    diesel::update(listings::table.find(&version.listing_id))
        .filter(listings::published_at.is_null())
        .set(listings::published_at.eq(version.published_at.unwrap_or(now)))
        .execute(conn)?;
    Ok(())
}

/// Archives (unpublishes) a listing; answers whether it was not archived before.
pub fn archive_listing(
    conn: &mut Conn,
    listing_id: &str,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let changed = diesel::update(listings::table.find(listing_id))
        .filter(listings::archived_at.is_null())
        .set((listings::archived_at.eq(now), listings::updated_at.eq(now)))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Republishes an archived listing; answers whether it was archived before.
pub fn restore_listing(
    conn: &mut Conn,
    listing_id: &str,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let changed = diesel::update(listings::table.find(listing_id))
        .filter(listings::archived_at.is_not_null())
        .set((listings::archived_at.eq(None::<NaiveDateTime>), listings::updated_at.eq(now)))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Creates a seller's payment account (its Stripe Connect account id and state).
pub fn insert_seller_account(
    conn: &mut Conn,
    user_id: &str,
    stripe_account_id: &str,
    payouts_enabled: bool,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::insert_into(seller_accounts::table)
        .values((
            seller_accounts::user_id.eq(user_id),
            seller_accounts::stripe_account_id.eq(stripe_account_id),
            seller_accounts::charges_enabled.eq(payouts_enabled),
            seller_accounts::payouts_enabled.eq(payouts_enabled),
            seller_accounts::details_submitted.eq(payouts_enabled),
            seller_accounts::created_at.eq(now),
            seller_accounts::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Sets a listing's activity counters (the demo seed's simulated history).
pub fn set_counters(
    conn: &mut Conn,
    listing_id: &str,
    downloads: i64,
    installs: i64,
    views: i64,
) -> Result<(), StoreError> {
    diesel::update(listings::table.find(listing_id))
        .set((
            listings::download_count.eq(downloads),
            listings::install_count.eq(installs),
            listings::view_count.eq(views),
        ))
        .execute(conn)?;
    Ok(())
}

/// Locks a listing (by slug) until the transaction ends, so concurrent changes of one
/// listing run one after the other and each sees the other's outcome. SQLite needs
/// nothing: [`crate::write_tx`] already holds the database's write lock there.
pub fn lock_listing(conn: &mut Conn, slug: &str) -> Result<(), StoreError> {
    if let Conn::Pg(c) = conn {
        listings::table
            .filter(listings::slug.eq(slug))
            .select(listings::id)
            .for_update()
            .load::<String>(c)?;
    }
    Ok(())
}
