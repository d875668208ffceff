//! What buyers, installers and readers leave behind: download, view and install counts,
//! installation records, and who may fetch a paid listing.

use ap_domain::commerce::PurchaseStatus;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::conn::Conn;
use crate::error::StoreError;
use crate::schema::{count_marks, installations, license_codes, listings, purchases};

/// Downloads and views to add to a listing's counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CountDelta {
    /// Download links issued.
    pub downloads: i64,
    /// Detail views.
    pub views: i64,
}

/// What a count mark counts.
pub const DOWNLOAD: &str = "download";
/// See [`DOWNLOAD`].
pub const VIEW: &str = "view";

/// A visitor's download or view of a listing on a day.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Insertable)]
#[diesel(table_name = count_marks)]
pub struct CountMark {
    pub listing_id: String,
    /// [`DOWNLOAD`] or [`VIEW`].
    pub kind: &'static str,
    /// A pseudonym of the user or client address (never the address itself).
    pub visitor: String,
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
}

/// Adds each mark not already recorded to its listing's counts, so a visitor counts once
/// per listing, kind and day, whichever instance saw them first. Run it in a transaction.
pub fn count_once(conn: &mut Conn, marks: &[CountMark]) -> Result<(), StoreError> {
    let mut deltas: std::collections::HashMap<&str, CountDelta> = Default::default();
    for mark in marks {
        // In a savepoint, so a repeat (unique violation) leaves the transaction usable.
        let inserted =
            conn.transaction(|c| diesel::insert_into(count_marks::table).values(mark).execute(c));
        match inserted.map_err(StoreError::from) {
            Ok(_) => {
                let delta = deltas.entry(mark.listing_id.as_str()).or_default();
                match mark.kind {
                    VIEW => delta.views += 1,
                    _ => delta.downloads += 1,
                }
            }
            Err(StoreError::Conflict(_)) => {}
            Err(other) => return Err(other),
        }
    }
    let deltas: Vec<(String, CountDelta)> =
        deltas.into_iter().map(|(id, delta)| (id.to_owned(), delta)).collect();
    add_counts(conn, &deltas)
}

/// Forgets the marks of days before `day` (`YYYY-MM-DD`); answers how many.
pub fn prune_count_marks(conn: &mut Conn, day: &str) -> Result<usize, StoreError> {
    Ok(diesel::delete(count_marks::table.filter(count_marks::day.lt(day))).execute(conn)?)
}

/// Adds counts to listings (`(listing id, delta)`); run it in a transaction to write a
/// batch at once.
pub fn add_counts(conn: &mut Conn, deltas: &[(String, CountDelta)]) -> Result<(), StoreError> {
    for (listing_id, delta) in deltas {
        diesel::update(listings::table.find(listing_id))
            .set((
                listings::download_count.eq(listings::download_count + delta.downloads),
                listings::view_count.eq(listings::view_count + delta.views),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A user's access to a listing through a purchase: `None` without a completed purchase
/// (bought, or redeemed with a license code); otherwise the license code, if any.
pub fn purchase_access(
    conn: &mut Conn,
    user_id: &str,
    listing_id: &str,
) -> Result<Option<Option<String>>, StoreError> {
    let bought: Option<(String, Option<String>)> = purchases::table
        .left_join(license_codes::table.on(license_codes::purchase_id.eq(purchases::id)))
        .filter(purchases::buyer_id.eq(user_id))
        .filter(purchases::listing_id.eq(listing_id))
        .filter(purchases::status.eq(PurchaseStatus::Completed.as_str()))
        .select((purchases::id, license_codes::code.nullable()))
        .first(conn)
        .optional()?;
    if let Some((_, code)) = bought {
        return Ok(Some(code));
    }
    let redeemed: Option<String> = license_codes::table
        .inner_join(purchases::table.on(purchases::id.eq(license_codes::purchase_id)))
        .filter(license_codes::redeemed_by.eq(user_id))
        .filter(purchases::listing_id.eq(listing_id))
        .filter(purchases::status.eq(PurchaseStatus::Completed.as_str()))
        .select(license_codes::code)
        .first(conn)
        .optional()?;
    Ok(redeemed.map(Some))
}

/// An installation to record.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = installations)]
pub struct NewInstallation {
    pub id: String,
    /// The native listing, when the source is this marketplace.
    pub listing_id: Option<String>,
    pub source: String,
    pub source_slug: String,
    pub user_id: Option<String>,
    /// `user:<id>` or `host:<hostname>`: one count per installer and listing.
    pub installer_key: String,
    pub hostname: String,
    pub platform: String,
    pub created_at: NaiveDateTime,
}

/// Records an installation once per (source, slug, installer); the first one also counts
/// on the listing. Answers the id of the record (the earlier one for a repeat).
pub fn record_installation(
    conn: &mut Conn,
    installation: &NewInstallation,
) -> Result<String, StoreError> {
    // In a savepoint, so a repeat (unique violation) leaves the transaction usable.
    let inserted = conn
        .transaction(|c| diesel::insert_into(installations::table).values(installation).execute(c));
    match inserted.map_err(StoreError::from) {
        Ok(_) => {
            if let Some(listing_id) = &installation.listing_id {
                diesel::update(listings::table.find(listing_id))
                    .set(listings::install_count.eq(listings::install_count + 1))
                    .execute(conn)?;
            }
            Ok(installation.id.clone())
        }
        Err(StoreError::Conflict(_)) => Ok(installations::table
            .filter(installations::source.eq(&installation.source))
            .filter(installations::source_slug.eq(&installation.source_slug))
            .filter(installations::installer_key.eq(&installation.installer_key))
            .select(installations::id)
            .first(conn)?),
        Err(other) => Err(other),
    }
}
