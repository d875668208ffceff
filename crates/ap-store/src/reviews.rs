//! Reviews: one per user and listing, and the listing's rating kept exact in the same
//! transaction (`rating_sum` and `rating_count` move by SQL arithmetic, so concurrent
//! reviews of one listing never lose an update).

use ap_domain::{ListingId, UserId};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::conn::Conn;
use crate::error::StoreError;
use crate::schema::{installations, listings, reviews};

/// A stored review.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = reviews)]
pub struct ReviewRow {
    pub id: String,
    pub listing_id: ListingId,
    pub user_id: UserId,
    pub rating: i32,
    pub text: Option<String>,
    pub verified_purchase: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A review to write.
#[derive(Debug, Clone)]
pub struct NewReview<'a> {
    pub listing_id: &'a str,
    pub user_id: &'a str,
    pub rating: i32,
    pub text: Option<&'a str>,
    pub verified_purchase: bool,
    pub now: NaiveDateTime,
}

/// Writes the user's review of a listing (replacing an earlier one) and moves the
/// listing's rating; answers the stored review and whether it is new. Run it inside a
/// transaction.
pub fn upsert(conn: &mut Conn, review: &NewReview<'_>) -> Result<(ReviewRow, bool), StoreError> {
    let existing: Option<ReviewRow> = reviews::table
        .filter(reviews::listing_id.eq(review.listing_id))
        .filter(reviews::user_id.eq(review.user_id))
        .select(ReviewRow::as_select())
        .first(conn)
        .optional()?;
    let created = match &existing {
        Some(old) => {
            diesel::update(reviews::table.find(&old.id))
                .set((
                    reviews::rating.eq(review.rating),
                    reviews::text.eq(review.text),
                    reviews::verified_purchase.eq(review.verified_purchase),
                    reviews::updated_at.eq(review.now),
                ))
                .execute(conn)?;
            let delta = i64::from(review.rating - old.rating);
            diesel::update(listings::table.find(review.listing_id))
                .set(listings::rating_sum.eq(listings::rating_sum + delta))
                .execute(conn)?;
            false
        }
        None => {
            diesel::insert_into(reviews::table)
                .values((
                    reviews::id.eq(uuid::Uuid::now_v7().to_string()),
                    reviews::listing_id.eq(review.listing_id),
                    reviews::user_id.eq(review.user_id),
                    reviews::rating.eq(review.rating),
                    reviews::text.eq(review.text),
                    reviews::verified_purchase.eq(review.verified_purchase),
                    reviews::created_at.eq(review.now),
                    reviews::updated_at.eq(review.now),
                ))
                .execute(conn)?;
            diesel::update(listings::table.find(review.listing_id))
                .set((
                    listings::rating_sum.eq(listings::rating_sum + i64::from(review.rating)),
                    listings::rating_count.eq(listings::rating_count + 1),
                ))
                .execute(conn)?;
            true
        }
    };
    let row = reviews::table
        .filter(reviews::listing_id.eq(review.listing_id))
        .filter(reviews::user_id.eq(review.user_id))
        .select(ReviewRow::as_select())
        .first(conn)?;
    Ok((row, created))
}

/// A review with its author's public names.
pub type WithAuthor = (ReviewRow, Option<String>, Option<String>);

/// A page of a listing's reviews, newest first (by first writing, then id: the order
/// does not move when a review is replaced), with the total.
pub fn page(
    conn: &mut Conn,
    listing_id: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<WithAuthor>, i64), StoreError> {
    let total: i64 =
        reviews::table.filter(reviews::listing_id.eq(listing_id)).count().get_result(conn)?;
    let rows: Vec<ReviewRow> = reviews::table
        .filter(reviews::listing_id.eq(listing_id))
        .order((reviews::created_at.desc(), reviews::id.desc()))
        .limit(limit)
        .offset(offset)
        .select(ReviewRow::as_select())
        .load(conn)?;
    let ids: Vec<&str> = rows.iter().map(|r| r.user_id.as_str()).collect();
    let authors = crate::catalog::users_by_ids(conn, &ids)?;
    let with_authors = rows
        .into_iter()
        .map(|row| {
            let author = authors.get(&row.user_id);
            let name = author.and_then(|a| a.display_name.clone());
            let slug = author.and_then(|a| a.display_name_slug.clone());
            (row, name, slug)
        })
        .collect();
    Ok((with_authors, total))
}

/// Whether the user recorded an install of the listing while signed in.
pub fn installed_by(conn: &mut Conn, user_id: &str, listing_id: &str) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(
        installations::table
            .filter(installations::user_id.eq(user_id))
            .filter(installations::listing_id.eq(listing_id)),
    ))
    .get_result(conn)?)
}
