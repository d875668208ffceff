//! What administrators and the account lifecycle do to published things: which version
//! a listing serves, quarantine of versions and listings, account states (suspended,
//! frozen for deletion) and their CLI tokens, the erasure of an account's personal data,
//! and rescan jobs.
//!
//! A listing serves its newest version that passed its scan and is not quarantined,
//! unless the listing is quarantined or its owner's account is not active; then it
//! serves none and leaves the catalog (see [`refresh_live`]). Every change that can move
//! that answer calls it, in the change's transaction.

use ap_domain::listing::VersionStatus;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::catalog::{newest_first, version_servable};
use crate::conn::Conn;
use crate::error::StoreError;
use crate::schema::{
    cli_tokens, installations, listing_versions, listings, rescan_changes, rescans, user_roles,
    users,
};

/// `users.account_status` of an account in good standing.
pub const ACTIVE: &str = "active";
/// `users.account_status` of an account an administrator suspended.
pub const SUSPENDED: &str = "suspended";
/// `users.account_status` of an account waiting out its deletion grace period.
pub const PENDING_DELETION: &str = "pending_deletion";
/// Days between a deletion request and the erasure (signing in meanwhile cancels it).
pub const DELETION_GRACE_DAYS: i64 = 30;

/// Works out which version the listing serves (see the module docs) and records it:
/// `live_version_id`, `current_version` and the listing's security verdict follow that
/// version; the first publication is stamped. Nothing is written when nothing moves.
pub fn refresh_live(
    conn: &mut Conn,
    listing_id: &str,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    // On PostgreSQL, what is read below must not change before the write: the listing's
    // row is locked, its owner's row shared (a suspension waits, and so does this for
    // one). SQLite's write transaction already serialises writers.
    if let Conn::Pg(c) = conn {
        let owner: String =
            listings::table.find(listing_id).select(listings::owner_id).for_update().first(c)?;
        users::table.find(&owner).select(users::id).for_share().load::<String>(c)?;
    }
    let (held, status, serving): (Option<NaiveDateTime>, String, Option<String>) = listings::table
        .inner_join(users::table)
        .filter(listings::id.eq(listing_id))
        .select((listings::quarantined_at, users::account_status, listings::live_version_id))
        .first(conn)?;
    let newest: Option<(String, String, Option<String>, Option<i32>)> =
        if held.is_none() && status == ACTIVE {
            listing_versions::table
                .filter(listing_versions::listing_id.eq(listing_id))
                .filter(version_servable())
                .order(newest_first())
                .select((
                    listing_versions::id,
                    listing_versions::version,
                    listing_versions::security_status,
                    listing_versions::security_score,
                ))
                .first(conn)
                .optional()?
        } else {
            None
        };
    match newest {
        Some((id, version, security, score)) => {
            diesel::update(listings::table.find(listing_id))
                .set((
                    listings::live_version_id.eq(&id),
                    listings::current_version.eq(&version),
                    listings::security_status.eq(security.as_deref().unwrap_or("pass")),
                    listings::security_score.eq(score),
                    listings::updated_at.eq(now),
                ))
                .execute(conn)?;
            diesel::update(listings::table.find(listing_id))
                .filter(listings::published_at.is_null())
                .set(listings::published_at.eq(now))
                .execute(conn)?;
        }
        None if serving.is_some() => {
            diesel::update(listings::table.find(listing_id))
                .set((listings::live_version_id.eq(None::<String>), listings::updated_at.eq(now)))
                .execute(conn)?;
        }
        None => {}
    }
    Ok(())
}

/// [`refresh_live`] for every listing of `owner_id` (after their account changed state).
pub fn refresh_owner_listings(
    conn: &mut Conn,
    owner_id: &str,
    now: NaiveDateTime,
) -> Result<Vec<String>, StoreError> {
    let ids: Vec<String> =
        listings::table.filter(listings::owner_id.eq(owner_id)).select(listings::id).load(conn)?;
    for id in &ids {
        refresh_live(conn, id, now)?;
    }
    Ok(ids)
}

/// A listing's id by its slug, whatever its state.
pub fn listing_id_by_slug(conn: &mut Conn, slug: &str) -> Result<Option<String>, StoreError> {
    Ok(listings::table
        .filter(listings::slug.eq(slug))
        .select(listings::id)
        .first(conn)
        .optional()?)
}

/// A version named by listing slug and version number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedVersion {
    pub listing_id: String,
    pub version_id: String,
    pub quarantined: bool,
}

/// The version `version` of the listing `slug`.
pub fn version_by_number(
    conn: &mut Conn,
    slug: &str,
    version: &str,
) -> Result<Option<NamedVersion>, StoreError> {
    let row: Option<(String, String, Option<NaiveDateTime>)> = listing_versions::table
        .inner_join(listings::table)
        .filter(listings::slug.eq(slug))
        .filter(listing_versions::version.eq(version))
        .select((listings::id, listing_versions::id, listing_versions::quarantined_at))
        .first(conn)
        .optional()?;
    Ok(row.map(|(listing_id, version_id, at)| NamedVersion {
        listing_id,
        version_id,
        quarantined: at.is_some(),
    }))
}

/// Quarantines (`Some(now)`) or releases (`None`) a version; answers whether it changed.
pub fn set_version_quarantine(
    conn: &mut Conn,
    version_id: &str,
    at: Option<NaiveDateTime>,
) -> Result<bool, StoreError> {
    let query = listing_versions::table.find(version_id);
    let changed = match at {
        Some(at) => diesel::update(query.filter(listing_versions::quarantined_at.is_null()))
            .set(listing_versions::quarantined_at.eq(at))
            .execute(conn)?,
        None => diesel::update(query.filter(listing_versions::quarantined_at.is_not_null()))
            .set(listing_versions::quarantined_at.eq(None::<NaiveDateTime>))
            .execute(conn)?,
    };
    Ok(changed == 1)
}

/// Quarantines (`Some(now)`) or releases (`None`) a whole listing; answers whether it
/// changed.
pub fn set_listing_quarantine(
    conn: &mut Conn,
    listing_id: &str,
    at: Option<NaiveDateTime>,
) -> Result<bool, StoreError> {
    let query = listings::table.find(listing_id);
    let changed = match at {
        Some(at) => diesel::update(query.filter(listings::quarantined_at.is_null()))
            .set(listings::quarantined_at.eq(at))
            .execute(conn)?,
        None => diesel::update(query.filter(listings::quarantined_at.is_not_null()))
            .set(listings::quarantined_at.eq(None::<NaiveDateTime>))
            .execute(conn)?,
    };
    Ok(changed == 1)
}

/// Whether the archive of `version_id` may be served now: the version passed its scan,
/// neither it nor its listing is quarantined. (Checked on every file request, so a
/// withdrawal stops links issued before it.)
pub fn servable(conn: &mut Conn, version_id: &str) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(
        listing_versions::table
            .inner_join(listings::table)
            .filter(listing_versions::id.eq(version_id))
            .filter(version_servable())
            .filter(listings::quarantined_at.is_null()),
    ))
    .get_result(conn)?)
}

/// The versions of these listings that were served once and are withdrawn now
/// (quarantined, or blocked by a later scan), as (listing id, version), oldest first.
pub fn withdrawn_versions(
    conn: &mut Conn,
    listing_ids: &[&str],
) -> Result<Vec<(String, String)>, StoreError> {
    if listing_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(listing_versions::table
        .filter(listing_versions::listing_id.eq_any(listing_ids))
        .filter(listing_versions::published_at.is_not_null())
        .filter(
            listing_versions::quarantined_at
                .is_not_null()
                .or(listing_versions::status.eq("blocked")),
        )
        .order((
            listing_versions::major.asc(),
            listing_versions::minor.asc(),
            listing_versions::patch.asc(),
        ))
        .select((listing_versions::listing_id, listing_versions::version))
        .load(conn)?)
}

/// A user's account status and whether their personal data was erased.
pub fn account_state(
    conn: &mut Conn,
    user_id: &str,
) -> Result<Option<(String, Option<NaiveDateTime>)>, StoreError> {
    Ok(users::table
        .find(user_id)
        .select((users::account_status, users::erased_at))
        .first(conn)
        .optional()?)
}

/// Sets a user's account status and deletion date; answers whether the row changed.
pub fn set_account_status(
    conn: &mut Conn,
    user_id: &str,
    from: &str,
    to: &str,
    deletion_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let changed = diesel::update(users::table.find(user_id))
        .filter(users::account_status.eq(from))
        .set((
            users::account_status.eq(to),
            users::deletion_scheduled_at.eq(deletion_at),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Revokes every active CLI token of a user with `reason`; answers how many.
pub fn revoke_tokens(
    conn: &mut Conn,
    user_id: &str,
    reason: &str,
    now: NaiveDateTime,
) -> Result<usize, StoreError> {
    Ok(diesel::update(
        cli_tokens::table
            .filter(cli_tokens::user_id.eq(user_id))
            .filter(cli_tokens::revoked_at.is_null()),
    )
    .set((cli_tokens::revoked_at.eq(now), cli_tokens::revoked_reason.eq(reason)))
    .execute(conn)?)
}

/// The accounts whose deletion grace period ended at or before `now`.
pub fn deletions_due(conn: &mut Conn, now: NaiveDateTime) -> Result<Vec<String>, StoreError> {
    Ok(users::table
        .filter(users::account_status.eq(PENDING_DELETION))
        .filter(users::deletion_scheduled_at.le(now))
        .select(users::id)
        .load(conn)?)
}

/// Erases an account's personal data (docs/PRIVACY.md): every personal column of the
/// user row, the identity that signs in as them, their CLI tokens, roles and the host
/// names of their installations; archives their listings. The row stays, anonymous, so
/// purchases keep their buyer and reviews their author ("deleted user"). Run it in a
/// transaction; answers the ids of the listings archived.
pub fn erase_account(
    conn: &mut Conn,
    user_id: &str,
    now: NaiveDateTime,
) -> Result<Vec<String>, StoreError> {
    let changed = diesel::update(users::table.find(user_id))
        .filter(users::account_status.eq(PENDING_DELETION))
        .filter(users::erased_at.is_null())
        .filter(users::deletion_scheduled_at.le(now))
        .set((
            users::identity_issuer.eq("erased"),
            users::identity_subject.eq(user_id),
            users::email.eq(None::<String>),
            users::name.eq(None::<String>),
            users::display_name.eq(None::<String>),
            users::display_name_slug.eq(None::<String>),
            users::github_username.eq(None::<String>),
            users::bio.eq(None::<String>),
            users::website_url.eq(None::<String>),
            users::github_url.eq(None::<String>),
            users::linkedin_url.eq(None::<String>),
            users::twitter_url.eq(None::<String>),
            users::avatar_url.eq(None::<String>),
            users::verified.eq(false),
            users::deletion_scheduled_at.eq(None::<NaiveDateTime>),
            users::erased_at.eq(now),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    // After the update: its trigger marked the owner's listings due (waiting for any
    // document builder to commit), so no builder is in the middle of these documents.
    crate::documents::discard_of_owner(conn, user_id)?;
    diesel::delete(cli_tokens::table.filter(cli_tokens::user_id.eq(user_id))).execute(conn)?;
    diesel::delete(user_roles::table.filter(user_roles::user_id.eq(user_id))).execute(conn)?;
    diesel::update(installations::table.filter(installations::user_id.eq(user_id)))
        .set(installations::hostname.eq(""))
        .execute(conn)?;
    let archived: Vec<String> = listings::table
        .filter(listings::owner_id.eq(user_id))
        .filter(listings::archived_at.is_null())
        .select(listings::id)
        .load(conn)?;
    diesel::update(listings::table.filter(listings::id.eq_any(&archived)))
        .set((listings::archived_at.eq(now), listings::updated_at.eq(now)))
        .execute(conn)?;
    Ok(archived)
}

/// A rescan job.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = rescans)]
pub struct RescanRow {
    pub id: String,
    pub actor: String,
    pub reason: String,
    pub scanner_version: String,
    pub status: String,
    pub total: i64,
    pub done: i64,
    pub changed: i64,
    pub started_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    pub error: Option<String>,
}

/// A verdict a rescan changed.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = rescan_changes)]
pub struct RescanChange {
    pub rescan_id: String,
    pub version_id: String,
    pub listing_id: String,
    pub slug: String,
    pub version: String,
    pub before_status: String,
    pub after_status: String,
    pub before_score: Option<i32>,
    pub after_score: i32,
}

/// A live version as a rescan reads it: ids, number, its listing's slug and kind, the
/// archive's hash and the stored verdict.
#[derive(Debug, Clone, Queryable)]
pub struct RescanTarget {
    pub version_id: String,
    pub listing_id: String,
    pub slug: String,
    pub listing_type: String,
    pub version: String,
    pub archive_sha256: Option<String>,
    pub security_status: Option<String>,
    pub security_score: Option<i32>,
}

/// Serialises the start of rescans on PostgreSQL (an advisory lock held to the end of
/// the transaction), so that of two starting at once one sees the other.
pub fn lock_rescans(conn: &mut Conn) -> Result<(), StoreError> {
    if let Conn::Pg(c) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('ap_rescans'))").execute(c)?;
    }
    Ok(())
}

/// Marks running jobs without progress since `alive_since` failed (their instance
/// stopped); answers how many.
pub fn fail_stale_rescans(
    conn: &mut Conn,
    alive_since: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<usize, StoreError> {
    Ok(diesel::update(
        rescans::table
            .filter(rescans::status.eq("running"))
            .filter(rescans::updated_at.lt(alive_since)),
    )
    .set((
        rescans::status.eq("failed"),
        rescans::error.eq("interrupted: the instance running it stopped"),
        rescans::finished_at.eq(now),
        rescans::updated_at.eq(now),
    ))
    .execute(conn)?)
}

/// The rescan running now: one whose last progress is at or after `alive_since`.
pub fn running_rescan(
    conn: &mut Conn,
    alive_since: NaiveDateTime,
) -> Result<Option<RescanRow>, StoreError> {
    Ok(rescans::table
        .filter(rescans::status.eq("running"))
        .filter(rescans::updated_at.ge(alive_since))
        .select(RescanRow::as_select())
        .first(conn)
        .optional()?)
}

/// The live versions in id order after `after`, up to `limit` (a rescan's work list).
pub fn rescan_targets(
    conn: &mut Conn,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<RescanTarget>, StoreError> {
    let mut query = listing_versions::table
        .inner_join(listings::table)
        .filter(listing_versions::status.eq(VersionStatus::Live.as_str()))
        .order(listing_versions::id.asc())
        .limit(limit)
        .select((
            listing_versions::id,
            listings::id,
            listings::slug,
            listings::listing_type,
            listing_versions::version,
            listing_versions::archive_sha256,
            listing_versions::security_status,
            listing_versions::security_score,
        ))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(listing_versions::id.gt(after.to_owned()));
    }
    Ok(query.load(conn)?)
}

/// How many versions are live (a rescan's total).
pub fn live_version_count(conn: &mut Conn) -> Result<i64, StoreError> {
    Ok(listing_versions::table
        .filter(listing_versions::status.eq(VersionStatus::Live.as_str()))
        .count()
        .get_result(conn)?)
}

/// Starts a rescan job.
pub fn insert_rescan(conn: &mut Conn, row: &RescanRow) -> Result<(), StoreError> {
    diesel::insert_into(rescans::table)
        .values((
            rescans::id.eq(&row.id),
            rescans::actor.eq(&row.actor),
            rescans::reason.eq(&row.reason),
            rescans::scanner_version.eq(&row.scanner_version),
            rescans::status.eq(&row.status),
            rescans::total.eq(row.total),
            rescans::done.eq(row.done),
            rescans::changed.eq(row.changed),
            rescans::started_at.eq(row.started_at),
            rescans::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records a rescan's progress: `done` more versions seen, `changed` of them changed.
pub fn rescan_progress(
    conn: &mut Conn,
    id: &str,
    done: i64,
    changed: i64,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::update(rescans::table.find(id))
        .set((
            rescans::done.eq(rescans::done + done),
            rescans::changed.eq(rescans::changed + changed),
            rescans::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Ends a rescan: `finished` (with a note of the versions it could not scan, if any) or
/// `failed` (with why).
pub fn finish_rescan(
    conn: &mut Conn,
    id: &str,
    failed: bool,
    error: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::update(rescans::table.find(id))
        .set((
            rescans::status.eq(if failed { "failed" } else { "finished" }),
            rescans::error.eq(error),
            rescans::finished_at.eq(now),
            rescans::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records a verdict a rescan changed.
pub fn record_rescan_change(conn: &mut Conn, change: &RescanChange) -> Result<(), StoreError> {
    diesel::insert_into(rescan_changes::table).values(change).execute(conn)?;
    Ok(())
}

/// A rescan job and the verdicts it changed (in the order of the versions' ids).
pub fn rescan(
    conn: &mut Conn,
    id: &str,
) -> Result<Option<(RescanRow, Vec<RescanChange>)>, StoreError> {
    let Some(row) =
        rescans::table.find(id).select(RescanRow::as_select()).first(conn).optional()?
    else {
        return Ok(None);
    };
    let changes = rescan_changes::table
        .filter(rescan_changes::rescan_id.eq(id))
        .order(rescan_changes::version_id.asc())
        .select(RescanChange::as_select())
        .load(conn)?;
    Ok(Some((row, changes)))
}

/// Records a rescan's new verdict of a version: its scan fields, and `blocked` status
/// when the verdict blocks (see [`refresh_live`] for what the listing then serves).
pub fn set_verdict(
    conn: &mut Conn,
    version_id: &str,
    security_status: &str,
    security_score: i32,
    findings: &str,
    layers: &str,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    let blocked = security_status == "block";
    diesel::update(listing_versions::table.find(version_id))
        .set((
            listing_versions::security_status.eq(security_status),
            listing_versions::security_score.eq(security_score),
            listing_versions::findings.eq(findings),
            listing_versions::layers.eq(layers),
            listing_versions::scanned_at.eq(now),
        ))
        .execute(conn)?;
    if blocked {
        diesel::update(listing_versions::table.find(version_id))
            .set(listing_versions::status.eq("blocked"))
            .execute(conn)?;
    }
    Ok(())
}
