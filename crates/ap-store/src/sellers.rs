//! Public seller reads: sellers are users with at least one live listing.

use diesel::dsl::{count, count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable};

use crate::conn::Conn;
use crate::error::StoreError;
use crate::models::User;
use crate::schema::{listings, users};

/// Live-listing totals of one seller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SellerStats {
    /// Live listings.
    pub total_skills: i64,
    /// Downloads across them.
    pub total_downloads: i64,
}

/// `CAST(SUM(download_count) AS BIGINT)`: without the cast PostgreSQL answers NUMERIC.
fn downloads_sum() -> diesel::expression::SqlLiteral<Nullable<BigInt>> {
    sql::<Nullable<BigInt>>("CAST(SUM(download_count) AS BIGINT)")
}

/// One page of sellers, most downloaded first, with their totals.
pub fn page(
    conn: &mut Conn,
    limit: i64,
    offset: i64,
) -> Result<(Vec<(User, SellerStats)>, i64), StoreError> {
    let total: i64 = listings::table
        .filter(listings::archived_at.is_null())
        .filter(listings::live_version_id.is_not_null())
        .select(count(listings::owner_id).aggregate_distinct())
        .get_result(conn)?;
    let rows: Vec<(String, i64, Option<i64>)> = listings::table
        .filter(listings::archived_at.is_null())
        .filter(listings::live_version_id.is_not_null())
        .group_by(listings::owner_id)
        .select((listings::owner_id, count_star(), downloads_sum()))
        .order((downloads_sum().desc(), listings::owner_id.asc()))
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    let ids: Vec<&str> = rows.iter().map(|(id, _, _)| id.as_str()).collect();
    let mut users = crate::catalog::users_by_ids(conn, &ids)?;
    let sellers = rows
        .iter()
        .filter_map(|(id, skills, downloads)| {
            let stats =
                SellerStats { total_skills: *skills, total_downloads: downloads.unwrap_or(0) };
            users.remove(&ap_domain::UserId::from(id.as_str())).map(|user| (user, stats))
        })
        .collect();
    Ok((sellers, total))
}

/// A seller by display-name slug, with totals; `None` for unknown slugs and for users
/// without a live listing.
pub fn by_slug(conn: &mut Conn, slug: &str) -> Result<Option<(User, SellerStats)>, StoreError> {
    let Some(user) = users::table
        .filter(users::display_name_slug.eq(slug))
        .select(User::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let (skills, downloads): (i64, Option<i64>) = listings::table
        .filter(listings::owner_id.eq(user.id.as_str()))
        .filter(listings::archived_at.is_null())
        .filter(listings::live_version_id.is_not_null())
        .select((count_star(), downloads_sum()))
        .get_result(conn)?;
    if skills == 0 {
        return Ok(None);
    }
    Ok(Some((user, SellerStats { total_skills: skills, total_downloads: downloads.unwrap_or(0) })))
}

/// Ids of a seller's live listings, most popular first.
pub fn listing_ids(
    conn: &mut Conn,
    owner_id: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<String>, i64), StoreError> {
    let live = listings::archived_at.is_null().and(listings::live_version_id.is_not_null());
    let total: i64 = listings::table
        .filter(listings::owner_id.eq(owner_id))
        .filter(live)
        .select(count_star())
        .get_result(conn)?;
    let ids = listings::table
        .filter(listings::owner_id.eq(owner_id))
        .filter(live)
        .order((listings::popularity.desc(), listings::id.desc()))
        .select(listings::id)
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    Ok((ids, total))
}

/// Every listing of an owner, whatever its state, newest first; with the total.
pub fn own_listing_ids(
    conn: &mut Conn,
    owner_id: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<String>, i64), StoreError> {
    let total: i64 = listings::table
        .filter(listings::owner_id.eq(owner_id))
        .select(count_star())
        .get_result(conn)?;
    let ids = listings::table
        .filter(listings::owner_id.eq(owner_id))
        .order((listings::created_at.desc(), listings::id.desc()))
        .select(listings::id)
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    Ok((ids, total))
}

/// Which of these listings have a blocked version.
pub fn with_blocked_versions(conn: &mut Conn, ids: &[&str]) -> Result<Vec<String>, StoreError> {
    use crate::schema::listing_versions;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(listing_versions::table
        .filter(listing_versions::listing_id.eq_any(ids))
        .filter(listing_versions::status.eq(ap_domain::listing::VersionStatus::Blocked.as_str()))
        .select(listing_versions::listing_id)
        .distinct()
        .load(conn)?)
}

/// A seller's paid sales (completed or refunded) whose sale falls between `from` and
/// `to` (exclusive), optionally of one listing, newest first; with the total.
pub fn sales(
    conn: &mut Conn,
    seller_id: &str,
    from: chrono::NaiveDateTime,
    to: chrono::NaiveDateTime,
    listing_id: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<crate::purchases::Purchase>, i64), StoreError> {
    use crate::purchases::Purchase;
    use crate::schema::purchases;
    use ap_domain::commerce::PurchaseStatus;
    let paid = [PurchaseStatus::Completed.as_str(), PurchaseStatus::Refunded.as_str()];
    let query = || {
        let mut query = purchases::table
            .filter(purchases::seller_id.eq(seller_id.to_owned()))
            .filter(purchases::status.eq_any(paid))
            .filter(purchases::completed_at.ge(from))
            .filter(purchases::completed_at.lt(to))
            .into_boxed();
        if let Some(listing) = listing_id {
            query = query.filter(purchases::listing_id.eq(listing.to_owned()));
        }
        query
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows = query()
        .select(Purchase::as_select())
        .order((purchases::completed_at.desc(), purchases::id.desc()))
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    Ok((rows, total))
}

/// One thing that happened to a seller's listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Happening {
    /// `sale`, `refund`, `install`, `version_published` or `scan_blocked`.
    pub kind: &'static str,
    /// When.
    pub at: chrono::NaiveDateTime,
    /// The listing.
    pub listing_id: String,
    /// A version, for version events.
    pub version: Option<String>,
    /// The amount, for sales and refunds.
    pub amount_cents: Option<i64>,
    /// The rating, for reviews.
    pub rating: Option<i32>,
}

/// The newest `n` happenings of each kind for a seller's listings, and how many there
/// are of all kinds (the caller merges them by time).
pub fn happenings(
    conn: &mut Conn,
    seller_id: &str,
    n: i64,
) -> Result<(Vec<Happening>, i64), StoreError> {
    use crate::schema::{installations, listing_versions, purchases};
    use ap_domain::listing::VersionStatus;
    let own =
        || listings::table.filter(listings::owner_id.eq(seller_id.to_owned())).select(listings::id);
    let mut all = Vec::new();
    let mut total = 0;

    let sold = || purchases::table.filter(purchases::seller_id.eq(seller_id.to_owned()));
    total +=
        sold().filter(purchases::completed_at.is_not_null()).count().get_result::<i64>(conn)?;
    let rows: Vec<(String, Option<chrono::NaiveDateTime>, i64)> = sold()
        .filter(purchases::completed_at.is_not_null())
        .order(purchases::completed_at.desc())
        .select((purchases::listing_id, purchases::completed_at, purchases::amount_cents))
        .limit(n)
        .load(conn)?;
    all.extend(rows.into_iter().filter_map(|(listing_id, at, amount)| {
        Some(Happening {
            kind: "sale",
            at: at?,
            listing_id,
            version: None,
            amount_cents: Some(amount),
            rating: None,
        })
    }));
    total += sold().filter(purchases::refunded_at.is_not_null()).count().get_result::<i64>(conn)?;
    let rows: Vec<(String, Option<chrono::NaiveDateTime>, i64)> = sold()
        .filter(purchases::refunded_at.is_not_null())
        .order(purchases::refunded_at.desc())
        .select((purchases::listing_id, purchases::refunded_at, purchases::amount_cents))
        .limit(n)
        .load(conn)?;
    all.extend(rows.into_iter().filter_map(|(listing_id, at, amount)| {
        Some(Happening {
            kind: "refund",
            at: at?,
            listing_id,
            version: None,
            amount_cents: Some(amount),
            rating: None,
        })
    }));

    let own_nullable = || {
        listings::table
            .filter(listings::owner_id.eq(seller_id.to_owned()))
            .select(listings::id.nullable())
    };
    let installs = || installations::table.filter(installations::listing_id.eq_any(own_nullable()));
    total += installs().count().get_result::<i64>(conn)?;
    let rows: Vec<(Option<String>, chrono::NaiveDateTime)> = installs()
        .order(installations::created_at.desc())
        .select((installations::listing_id, installations::created_at))
        .limit(n)
        .load(conn)?;
    all.extend(rows.into_iter().filter_map(|(listing_id, at)| {
        Some(Happening {
            kind: "install",
            at,
            listing_id: listing_id?,
            version: None,
            amount_cents: None,
            rating: None,
        })
    }));

    let versions = || listing_versions::table.filter(listing_versions::listing_id.eq_any(own()));
    total += versions()
        .filter(listing_versions::published_at.is_not_null())
        .count()
        .get_result::<i64>(conn)?;
    let rows: Vec<(String, String, Option<chrono::NaiveDateTime>)> = versions()
        .filter(listing_versions::published_at.is_not_null())
        .order((listing_versions::published_at.desc(), listing_versions::id.desc()))
        .select((
            listing_versions::listing_id,
            listing_versions::version,
            listing_versions::published_at,
        ))
        .limit(n)
        .load(conn)?;
    all.extend(rows.into_iter().filter_map(|(listing_id, version, at)| {
        Some(Happening {
            kind: "version_published",
            at: at?,
            listing_id,
            version: Some(version),
            amount_cents: None,
            rating: None,
        })
    }));
    let blocked =
        || versions().filter(listing_versions::status.eq(VersionStatus::Blocked.as_str()));
    total += blocked()
        .filter(listing_versions::scanned_at.is_not_null())
        .count()
        .get_result::<i64>(conn)?;
    let rows: Vec<(String, String, Option<chrono::NaiveDateTime>)> = blocked()
        .filter(listing_versions::scanned_at.is_not_null())
        .order(listing_versions::scanned_at.desc())
        .select((
            listing_versions::listing_id,
            listing_versions::version,
            listing_versions::scanned_at,
        ))
        .limit(n)
        .load(conn)?;
    all.extend(rows.into_iter().filter_map(|(listing_id, version, at)| {
        Some(Happening {
            kind: "scan_blocked",
            at: at?,
            listing_id,
            version: Some(version),
            amount_cents: None,
            rating: None,
        })
    }));
    let rated =
        || crate::schema::reviews::table.filter(crate::schema::reviews::listing_id.eq_any(own()));
    total += rated().count().get_result::<i64>(conn)?;
    let rows: Vec<(String, chrono::NaiveDateTime, i32)> = rated()
        .order(crate::schema::reviews::updated_at.desc())
        .select((
            crate::schema::reviews::listing_id,
            crate::schema::reviews::updated_at,
            crate::schema::reviews::rating,
        ))
        .limit(n)
        .load(conn)?;
    all.extend(rows.into_iter().map(|(listing_id, at, rating)| Happening {
        kind: "review",
        at,
        listing_id,
        version: None,
        amount_cents: None,
        rating: Some(rating),
    }));
    Ok((all, total))
}
