//! Users: creation from sessions and sign-in, profiles, display-name slugs.

use ap_domain::slug::display_name_slug;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::conn::{Conn, write_tx};
use crate::error::StoreError;
use crate::models::{NewUser, User};
use crate::moderation;
use crate::schema::{listings, users};

/// Display-name slugs that would shadow fixed routes under `/v1/sellers/`.
const RESERVED_SLUGS: [&str; 8] =
    ["status", "connect", "earnings", "skills", "sales", "revenue", "activity", "next-payout"];

/// Who signs in: an identity issuer and subject, with what the issuer says about them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Issuer of the identity.
    pub issuer: String,
    /// Subject, unique per issuer.
    pub subject: String,
    /// E-mail.
    pub email: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// When the person signed in with the issuer, when known: a sign-in after they
    /// scheduled their account's deletion cancels it.
    pub signed_in_at: Option<NaiveDateTime>,
}

/// A user by id.
pub fn by_id(conn: &mut Conn, id: &str) -> Result<User, StoreError> {
    Ok(users::table.find(id).select(User::as_select()).first(conn)?)
}

fn find(conn: &mut Conn, issuer: &str, subject: &str) -> Result<Option<User>, StoreError> {
    Ok(users::table
        .filter(users::identity_issuer.eq(issuer))
        .filter(users::identity_subject.eq(subject))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// Lets an existing account in, or says why not: a suspended account is refused; one
/// waiting out its deletion grace period is refused too, unless the person signed in
/// after scheduling the deletion, which cancels it (the account is active again and its
/// listings return).
fn admit(
    conn: &mut Conn,
    user: &User,
    signed_in_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    match user.account_status.as_str() {
        moderation::SUSPENDED => Err(StoreError::AccountSuspended),
        moderation::PENDING_DELETION => {
            let requested = user
                .deletion_scheduled_at
                .map(|at| at - chrono::Duration::days(moderation::DELETION_GRACE_DAYS));
            let fresh = matches!((signed_in_at, requested), (Some(s), Some(r)) if s > r);
            if !fresh {
                return Err(StoreError::AccountFrozen);
            }
            let id = user.id.as_str();
            let (from, to) = (moderation::PENDING_DELETION, moderation::ACTIVE);
            // Erased meanwhile (its identity is gone once that commits): not let in.
            if user.erased_at.is_some()
                || !moderation::set_account_status(conn, id, from, to, None, now)?
            {
                return Err(StoreError::AccountFrozen);
            }
            moderation::refresh_owner_listings(conn, id, now)?;
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The user of an identity: created on first sight, e-mail and name refreshed when the
/// issuer says something new. Answers the user id.
pub fn upsert(
    conn: &mut Conn,
    identity: &Identity,
    now: NaiveDateTime,
) -> Result<String, StoreError> {
    if let Some(user) = find(conn, &identity.issuer, &identity.subject)? {
        admit(conn, &user, identity.signed_in_at, now)?;
        let email = identity.email.clone().or(user.email.clone());
        let name = identity.name.clone().or(user.name.clone());
        if email != user.email || name != user.name {
            diesel::update(users::table.find(user.id.as_str()))
                .set((users::email.eq(&email), users::name.eq(&name), users::updated_at.eq(now)))
                .execute(conn)?;
        }
        return Ok(user.id.into_string());
    }
    let user = new_user(identity, now);
    // In a savepoint when inside a transaction, so that losing the race below leaves the
    // enclosing transaction usable (PostgreSQL aborts a transaction on any error).
    let inserted = conn.transaction(|c| diesel::insert_into(users::table).values(&user).execute(c));
    match inserted {
        Ok(_) => Ok(user.id),
        // A concurrent first request created it.
        Err(e) => match StoreError::from(e) {
            StoreError::Conflict(_) => find(conn, &identity.issuer, &identity.subject)?
                .map(|u| u.id.into_string())
                .ok_or(StoreError::NotFound),
            other => Err(other),
        },
    }
}

fn new_user(identity: &Identity, now: NaiveDateTime) -> NewUser {
    NewUser::new(
        &identity.issuer,
        &identity.subject,
        identity.email.clone(),
        identity.name.clone(),
        now,
    )
}

/// A free display-name slug for `display_name`: the base slug, else `-2`, `-3`, ….
fn free_slug(conn: &mut Conn, display_name: &str, user_id: &str) -> Result<String, StoreError> {
    let mut base = display_name_slug(display_name);
    if RESERVED_SLUGS.contains(&base.as_str()) {
        base.push_str("-user");
    }
    let pattern = format!("{base}-%");
    let taken: Vec<String> = users::table
        .filter(users::id.ne(user_id))
        .filter(users::display_name_slug.eq(&base).or(users::display_name_slug.like(&pattern)))
        .select(users::display_name_slug.assume_not_null())
        .load(conn)?;
    if !taken.contains(&base) {
        return Ok(base);
    }
    Ok((2..)
        .map(|n| format!("{base}-{n}"))
        .find(|candidate| !taken.contains(candidate))
        .unwrap_or(base))
}

/// Sets a user's display name; the slug follows unless the user already has listings
/// (then it stays, so links to their seller page keep working). Part of a transaction.
fn apply_display_name(
    conn: &mut Conn,
    user_id: &str,
    display_name: &str,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    let user = by_id(conn, user_id)?;
    let has_listings: bool =
        diesel::select(diesel::dsl::exists(listings::table.filter(listings::owner_id.eq(user_id))))
            .get_result(conn)?;
    let slug = match (&user.display_name_slug, has_listings) {
        (Some(slug), true) => slug.clone(),
        _ => free_slug(conn, display_name, user_id)?,
    };
    diesel::update(users::table.find(user_id))
        .set((
            users::display_name.eq(display_name),
            users::display_name_slug.eq(slug),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Runs a write transaction, once more if a concurrent change took the same slug.
fn retry_on_conflict<T>(
    conn: &mut Conn,
    mut f: impl FnMut(&mut Conn) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    match write_tx(conn, &mut f) {
        Err(StoreError::Conflict(_)) => write_tx(conn, f),
        other => other,
    }
}

/// Profile fields other than the display name; `None` leaves a field as it is, `Some(None)`
/// clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq, AsChangeset)]
#[diesel(table_name = users)]
pub struct ProfileChanges {
    pub bio: Option<Option<String>>,
    pub website_url: Option<Option<String>>,
    pub github_url: Option<Option<String>>,
    pub linkedin_url: Option<Option<String>>,
    pub twitter_url: Option<Option<String>>,
}

/// Applies profile changes (and the display name, when given) in one transaction.
pub fn update_profile(
    conn: &mut Conn,
    user_id: &str,
    display_name: Option<&str>,
    changes: &ProfileChanges,
    now: NaiveDateTime,
) -> Result<User, StoreError> {
    retry_on_conflict(conn, |conn| {
        if let Some(name) = display_name {
            apply_display_name(conn, user_id, name, now)?;
        }
        if changes != &ProfileChanges::default() {
            diesel::update(users::table.find(user_id))
                .set((changes, users::updated_at.eq(now)))
                .execute(conn)?;
        }
        by_id(conn, user_id)
    })
}

/// Development sign-in: the user of `identity`, created if new, given `display_name` if
/// they have none yet. Answers the user id.
pub fn sign_in(
    conn: &mut Conn,
    identity: &Identity,
    display_name: &str,
    now: NaiveDateTime,
) -> Result<String, StoreError> {
    retry_on_conflict(conn, |conn| {
        let id = upsert(conn, identity, now)?;
        if by_id(conn, &id)?.display_name.is_none() {
            apply_display_name(conn, &id, display_name, now)?;
        }
        Ok(id)
    })
}

/// Whether a user sells: has a seller account or owns a listing.
pub fn is_seller(conn: &mut Conn, user_id: &str) -> Result<bool, StoreError> {
    use crate::schema::seller_accounts;
    let account: bool = diesel::select(diesel::dsl::exists(seller_accounts::table.find(user_id)))
        .get_result(conn)?;
    if account {
        return Ok(true);
    }
    Ok(diesel::select(diesel::dsl::exists(listings::table.filter(listings::owner_id.eq(user_id))))
        .get_result(conn)?)
}
