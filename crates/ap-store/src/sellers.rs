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
