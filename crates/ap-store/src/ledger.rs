//! The sellers' ledger: sales per listing and day and per seller and day (UTC, the day of
//! the sale), written in the same transaction as each sale and refund, and the sums the
//! seller figures read (per-seller rows for totals and series, per-listing rows for the
//! breakdown).
//! A refund counts on the day of the sale it undoes; `net = gross - refunded - fee`.

use chrono::NaiveDate;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::conn::Conn;
use crate::error::StoreError;
use crate::schema::{listing_days, seller_days};
use crate::with_backend;

/// A change of one listing's day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayDelta {
    /// Sales taken (paid), cents.
    pub gross_cents: i64,
    /// Sales refunded, cents.
    pub refunded_cents: i64,
    /// Platform fees on sales that stand, cents.
    pub fee_cents: i64,
    /// Sales that stand.
    pub sales_count: i64,
    /// Refunds.
    pub refunds_count: i64,
}

/// Adds `delta` to a listing's day (created on first use).
pub fn add(
    conn: &mut Conn,
    listing_id: &str,
    seller_id: &str,
    day: NaiveDate,
    delta: DayDelta,
) -> Result<(), StoreError> {
    use listing_days::dsl as d;
    let row = (
        d::listing_id.eq(listing_id),
        d::day.eq(day),
        d::seller_id.eq(seller_id),
        d::gross_cents.eq(delta.gross_cents),
        d::refunded_cents.eq(delta.refunded_cents),
        d::fee_cents.eq(delta.fee_cents),
        d::sales_count.eq(delta.sales_count),
        d::refunds_count.eq(delta.refunds_count),
    );
    let changes = (
        d::gross_cents.eq(d::gross_cents + delta.gross_cents),
        d::refunded_cents.eq(d::refunded_cents + delta.refunded_cents),
        d::fee_cents.eq(d::fee_cents + delta.fee_cents),
        d::sales_count.eq(d::sales_count + delta.sales_count),
        d::refunds_count.eq(d::refunds_count + delta.refunds_count),
    );
    with_backend!(conn, c => diesel::insert_into(listing_days::table)
        .values(row)
        .on_conflict((d::listing_id, d::day))
        .do_update()
        .set(changes)
        .execute(c))?;
    use seller_days::dsl as s;
    let row = (
        s::seller_id.eq(seller_id),
        s::day.eq(day),
        s::gross_cents.eq(delta.gross_cents),
        s::refunded_cents.eq(delta.refunded_cents),
        s::fee_cents.eq(delta.fee_cents),
        s::sales_count.eq(delta.sales_count),
        s::refunds_count.eq(delta.refunds_count),
    );
    let changes = (
        s::gross_cents.eq(s::gross_cents + delta.gross_cents),
        s::refunded_cents.eq(s::refunded_cents + delta.refunded_cents),
        s::fee_cents.eq(s::fee_cents + delta.fee_cents),
        s::sales_count.eq(s::sales_count + delta.sales_count),
        s::refunds_count.eq(s::refunds_count + delta.refunds_count),
    );
    with_backend!(conn, c => diesel::insert_into(seller_days::table)
        .values(row)
        .on_conflict((s::seller_id, s::day))
        .do_update()
        .set(changes)
        .execute(c))?;
    Ok(())
}

/// Sums over a set of days.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Queryable)]
pub struct Figures {
    /// Sales taken, cents.
    pub gross_cents: i64,
    /// Refunded, cents.
    pub refunded_cents: i64,
    /// Fees on sales that stand, cents.
    pub fee_cents: i64,
    /// Sales that stand.
    pub sales_count: i64,
    /// Refunds.
    pub refunds_count: i64,
}

impl Figures {
    /// The seller's share of the sales that stand.
    pub fn net_cents(&self) -> i64 {
        self.gross_cents - self.refunded_cents - self.fee_cents
    }
}

type Sums = (
    diesel::expression::SqlLiteral<BigInt>,
    diesel::expression::SqlLiteral<BigInt>,
    diesel::expression::SqlLiteral<BigInt>,
    diesel::expression::SqlLiteral<BigInt>,
    diesel::expression::SqlLiteral<BigInt>,
);

/// The five sums, cast so PostgreSQL answers BIGINT rather than NUMERIC.
fn sums() -> Sums {
    (
        sql::<BigInt>("CAST(COALESCE(SUM(gross_cents), 0) AS BIGINT)"),
        sql::<BigInt>("CAST(COALESCE(SUM(refunded_cents), 0) AS BIGINT)"),
        sql::<BigInt>("CAST(COALESCE(SUM(fee_cents), 0) AS BIGINT)"),
        sql::<BigInt>("CAST(COALESCE(SUM(sales_count), 0) AS BIGINT)"),
        sql::<BigInt>("CAST(COALESCE(SUM(refunds_count), 0) AS BIGINT)"),
    )
}

/// A seller's sums from `from` to `to` (days, both included).
pub fn totals(
    conn: &mut Conn,
    seller_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Figures, StoreError> {
    Ok(seller_days::table
        .filter(seller_days::seller_id.eq(seller_id))
        .filter(seller_days::day.between(from, to))
        .select(sums())
        .get_result(conn)?)
}

/// A seller's sums per day from `from` to `to`, days without sales left out.
pub fn by_day(
    conn: &mut Conn,
    seller_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(NaiveDate, Figures)>, StoreError> {
    use seller_days::dsl as s;
    Ok(seller_days::table
        .filter(s::seller_id.eq(seller_id))
        .filter(s::day.between(from, to))
        .select((
            s::day,
            (s::gross_cents, s::refunded_cents, s::fee_cents, s::sales_count, s::refunds_count),
        ))
        .order(s::day.asc())
        .load(conn)?)
}

/// A seller's sums per listing from `from` to `to`.
pub fn by_listing(
    conn: &mut Conn,
    seller_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(String, Figures)>, StoreError> {
    let (a, b, c, d, e) = sums();
    Ok(listing_days::table
        .filter(listing_days::seller_id.eq(seller_id))
        .filter(listing_days::day.between(from, to))
        .group_by(listing_days::listing_id)
        .select((listing_days::listing_id, (a, b, c, d, e)))
        .load(conn)?)
}
