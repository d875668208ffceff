//! Writes that create users, listings and live versions.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::conn::Conn;
use crate::error::StoreError;
use crate::models::{NewListing, NewListingVersion, NewUser};
use crate::schema::{listing_versions, listings, users};

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

/// Records a version that passed its scan and makes it the listing's live version.
/// Run it inside a transaction together with whatever created the version.
pub fn insert_live_version(
    conn: &mut Conn,
    version: &NewListingVersion,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::insert_into(listing_versions::table).values(version).execute(conn)?;
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

/// Archives (unpublishes) a listing; answers whether it was live before.
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
