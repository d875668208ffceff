//! Purchases, license codes, refunds, webhook deliveries and sellers' payment accounts.
//! Multi-row changes are meant to run inside [`crate::write_tx`].

use ap_domain::commerce::PurchaseStatus;
use ap_domain::{ListingId, UserId};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::conn::Conn;
use crate::error::StoreError;
use crate::ledger::{self, DayDelta};
use crate::schema::{license_codes, payment_refunds, purchases, seller_accounts, stripe_events};

/// A purchase row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = purchases)]
pub struct Purchase {
    pub id: String,
    pub buyer_id: UserId,
    pub listing_id: ListingId,
    pub amount_cents: i64,
    pub fee_cents: i64,
    pub currency: String,
    pub status: PurchaseStatus,
    pub stripe_session_id: Option<String>,
    pub stripe_payment_intent_id: Option<String>,
    pub completed_at: Option<NaiveDateTime>,
    pub refunded_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The listing's owner when it was bought.
    pub seller_id: Option<UserId>,
}

/// A purchase to create (pending, before its checkout session exists).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = purchases)]
pub struct NewPurchase {
    pub id: String,
    pub buyer_id: String,
    pub listing_id: String,
    pub amount_cents: i64,
    pub fee_cents: i64,
    pub currency: String,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub seller_id: String,
}

/// Creates a purchase.
pub fn insert(conn: &mut Conn, purchase: &NewPurchase) -> Result<(), StoreError> {
    diesel::insert_into(purchases::table).values(purchase).execute(conn)?;
    Ok(())
}

/// Attaches the payment provider's checkout session to a purchase.
pub fn set_session(conn: &mut Conn, purchase_id: &str, session_id: &str) -> Result<(), StoreError> {
    diesel::update(purchases::table.find(purchase_id))
        .set(purchases::stripe_session_id.eq(session_id))
        .execute(conn)?;
    Ok(())
}

/// A purchase by id.
pub fn by_id(conn: &mut Conn, id: &str) -> Result<Option<Purchase>, StoreError> {
    Ok(purchases::table.find(id).select(Purchase::as_select()).first(conn).optional()?)
}

/// A purchase by its checkout session, locked until the transaction ends on PostgreSQL
/// (SQLite's write transaction already serialises writers), so concurrent fulfilments
/// of one session run one after the other.
pub fn by_session_for_update(
    conn: &mut Conn,
    session_id: &str,
) -> Result<Option<Purchase>, StoreError> {
    if let Conn::Pg(c) = conn {
        purchases::table
            .filter(purchases::stripe_session_id.eq(session_id))
            .select(purchases::id)
            .for_update()
            .load::<String>(c)?;
    }
    by_session(conn, session_id)
}

/// A purchase by its checkout session.
pub fn by_session(conn: &mut Conn, session_id: &str) -> Result<Option<Purchase>, StoreError> {
    Ok(purchases::table
        .filter(purchases::stripe_session_id.eq(session_id))
        .select(Purchase::as_select())
        .first(conn)
        .optional()?)
}

/// The ledger line of a purchase, on the day of its sale (or `now` when it has none).
fn ledger_add(
    conn: &mut Conn,
    purchase: &Purchase,
    delta: DayDelta,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    let Some(seller) = &purchase.seller_id else { return Ok(()) };
    let day = purchase.completed_at.unwrap_or(now).date();
    ledger::add(conn, purchase.listing_id.as_str(), seller.as_str(), day, delta)
}

/// Completes a pending (or failed or expired) purchase with its payment and license
/// code, and books the sale; answers whether it changed (a completed or refunded
/// purchase stays as it is).
pub fn complete(
    conn: &mut Conn,
    purchase_id: &str,
    payment_intent: Option<&str>,
    code: &str,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let open = [
        PurchaseStatus::Pending.as_str(),
        PurchaseStatus::Failed.as_str(),
        PurchaseStatus::Expired.as_str(),
    ];
    let changed = diesel::update(purchases::table.find(purchase_id))
        .filter(purchases::status.eq_any(open))
        .set((
            purchases::status.eq(PurchaseStatus::Completed.as_str()),
            purchases::stripe_payment_intent_id.eq(payment_intent),
            purchases::completed_at.eq(now),
            purchases::updated_at.eq(now),
        ))
        .execute(conn)?;
    if changed == 0 {
        return Ok(false);
    }
    diesel::insert_into(license_codes::table)
        .values((
            license_codes::code.eq(code),
            license_codes::purchase_id.eq(purchase_id),
            license_codes::created_at.eq(now),
        ))
        .execute(conn)?;
    if let Some(purchase) = by_id(conn, purchase_id)? {
        let delta = DayDelta {
            gross_cents: purchase.amount_cents,
            fee_cents: purchase.fee_cents,
            sales_count: 1,
            ..DayDelta::default()
        };
        ledger_add(conn, &purchase, delta, now)?;
    }
    Ok(true)
}

/// Refunds a purchase and books it: a completed sale is undone on its day; a payment
/// refunded before its checkout was fulfilled is booked as taken and refunded at once.
/// Answers whether it changed (a refunded purchase stays as it is).
pub fn refund(conn: &mut Conn, purchase_id: &str, now: NaiveDateTime) -> Result<bool, StoreError> {
    let Some(purchase) = by_id(conn, purchase_id)? else { return Ok(false) };
    let delta = match purchase.status {
        PurchaseStatus::Refunded => return Ok(false),
        PurchaseStatus::Completed => DayDelta {
            refunded_cents: purchase.amount_cents,
            fee_cents: -purchase.fee_cents,
            sales_count: -1,
            refunds_count: 1,
            ..DayDelta::default()
        },
        _ => DayDelta {
            gross_cents: purchase.amount_cents,
            refunded_cents: purchase.amount_cents,
            refunds_count: 1,
            ..DayDelta::default()
        },
    };
    let from = [purchase.status];
    if !transition(conn, purchase_id, &from, PurchaseStatus::Refunded, now)? {
        return Ok(false);
    }
    ledger_add(conn, &purchase, delta, now)?;
    Ok(true)
}

/// Moves a purchase from one of `from` to `to`; answers whether it did.
pub fn transition(
    conn: &mut Conn,
    purchase_id: &str,
    from: &[PurchaseStatus],
    to: PurchaseStatus,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    let refunded_at = (to == PurchaseStatus::Refunded).then_some(now);
    let changed = diesel::update(purchases::table.find(purchase_id))
        .filter(purchases::status.eq_any(from))
        .set((
            purchases::status.eq(to.as_str()),
            purchases::refunded_at.eq(refunded_at),
            purchases::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Serialises the units of work about one payment until the transaction ends (a
/// refund and the fulfilment of its checkout): a PostgreSQL advisory lock on the payment
/// intent. SQLite needs nothing: its write transactions already run one at a time.
pub fn lock_payment(conn: &mut Conn, payment_intent: &str) -> Result<(), StoreError> {
    if let Conn::Pg(c) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind::<diesel::sql_types::Text, _>(payment_intent)
            .execute(c)?;
    }
    Ok(())
}

/// Applies a full refund of a payment (a Stripe refund webhook, or an administrator's
/// refund through the gateway): remembered by payment, and the purchase it paid for, if
/// any yet, becomes refunded with the ledger moved. Idempotent. Run it in a transaction.
pub fn refund_payment(
    conn: &mut Conn,
    payment_intent: &str,
    now: NaiveDateTime,
) -> Result<Option<Purchase>, StoreError> {
    lock_payment(conn, payment_intent)?;
    let purchase = record_refund(conn, payment_intent, now)?;
    if let Some(p) = &purchase {
        refund(conn, &p.id, now)?;
    }
    Ok(purchase)
}

/// A pending purchase of this listing by this buyer with an open checkout, if any (a
/// second Buy reuses it instead of opening a second checkout that could also be paid).
pub fn open_checkout(
    conn: &mut Conn,
    buyer_id: &str,
    listing_id: &str,
    since: NaiveDateTime,
) -> Result<Option<Purchase>, StoreError> {
    Ok(purchases::table
        .filter(purchases::buyer_id.eq(buyer_id))
        .filter(purchases::listing_id.eq(listing_id))
        .filter(purchases::status.eq(PurchaseStatus::Pending.as_str()))
        .filter(purchases::stripe_session_id.is_not_null())
        .filter(purchases::created_at.ge(since))
        .order(purchases::created_at.desc())
        .select(Purchase::as_select())
        .first(conn)
        .optional()?)
}

/// Records a full refund of a payment intent (once), and answers the purchase it paid
/// for, if one is known yet.
pub fn record_refund(
    conn: &mut Conn,
    payment_intent: &str,
    now: NaiveDateTime,
) -> Result<Option<Purchase>, StoreError> {
    let recorded = conn.transaction(|c| {
        diesel::insert_into(payment_refunds::table)
            .values((
                payment_refunds::payment_intent_id.eq(payment_intent),
                payment_refunds::refunded_at.eq(now),
            ))
            .execute(c)
    });
    match recorded.map_err(StoreError::from) {
        Ok(_) | Err(StoreError::Conflict(_)) => {}
        Err(other) => return Err(other),
    }
    Ok(purchases::table
        .filter(purchases::stripe_payment_intent_id.eq(payment_intent))
        .select(Purchase::as_select())
        .first(conn)
        .optional()?)
}

/// Whether a payment intent was refunded in full.
pub fn was_refunded(conn: &mut Conn, payment_intent: &str) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(payment_refunds::table.find(payment_intent)))
        .get_result(conn)?)
}

/// Records a webhook delivery by event id; answers `false` when it was seen before.
pub fn record_event(
    conn: &mut Conn,
    event_id: &str,
    event_type: &str,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let inserted = conn.transaction(|c| {
        diesel::insert_into(stripe_events::table)
            .values((
                stripe_events::id.eq(event_id),
                stripe_events::event_type.eq(event_type),
                stripe_events::received_at.eq(now),
            ))
            .execute(c)
    });
    match inserted.map_err(StoreError::from) {
        Ok(_) => Ok(true),
        Err(StoreError::Conflict(_)) => Ok(false),
        Err(other) => Err(other),
    }
}

/// Whether a webhook delivery was handled already.
pub fn event_seen(conn: &mut Conn, event_id: &str) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(stripe_events::table.find(event_id))).get_result(conn)?)
}

/// A page of the purchases a user bought or redeemed, newest first, with the total.
pub fn page_of(
    conn: &mut Conn,
    user_id: &str,
    status: Option<PurchaseStatus>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Purchase>, i64), StoreError> {
    let mine = || {
        let redeemed = license_codes::table
            .filter(license_codes::redeemed_by.eq(user_id.to_owned()))
            .select(license_codes::purchase_id);
        let mut query = purchases::table
            .filter(purchases::buyer_id.eq(user_id.to_owned()).or(purchases::id.eq_any(redeemed)))
            .into_boxed();
        if let Some(status) = status {
            query = query.filter(purchases::status.eq(status.as_str()));
        }
        query
    };
    let total: i64 = mine().count().get_result(conn)?;
    let rows = mine()
        .select(Purchase::as_select())
        .order((purchases::created_at.desc(), purchases::id.desc()))
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    Ok((rows, total))
}

/// A stored license code.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = license_codes)]
pub struct License {
    pub code: String,
    pub purchase_id: String,
    pub redeemed_by: Option<UserId>,
    pub redeemed_at: Option<NaiveDateTime>,
}

/// The license codes of these purchases.
pub fn licenses_of(conn: &mut Conn, purchase_ids: &[&str]) -> Result<Vec<License>, StoreError> {
    if purchase_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(license_codes::table
        .filter(license_codes::purchase_id.eq_any(purchase_ids))
        .select(License::as_select())
        .load(conn)?)
}

/// A license code as stored (codes are stored uppercase).
pub fn license(conn: &mut Conn, code: &str) -> Result<Option<License>, StoreError> {
    Ok(license_codes::table.find(code).select(License::as_select()).first(conn).optional()?)
}

/// Claims a code for `user_id`; answers whether it was still unclaimed.
pub fn redeem(
    conn: &mut Conn,
    code: &str,
    user_id: &str,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let changed = diesel::update(license_codes::table.find(code))
        .filter(license_codes::redeemed_by.is_null())
        .set((license_codes::redeemed_by.eq(user_id), license_codes::redeemed_at.eq(now)))
        .execute(conn)?;
    Ok(changed == 1)
}

/// A seller's payment account.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = seller_accounts)]
pub struct SellerAccount {
    pub user_id: UserId,
    pub stripe_account_id: String,
    pub charges_enabled: bool,
    pub payouts_enabled: bool,
    pub details_submitted: bool,
}

/// The payment account of a user, if they started onboarding.
pub fn seller_account(conn: &mut Conn, user_id: &str) -> Result<Option<SellerAccount>, StoreError> {
    Ok(seller_accounts::table
        .find(user_id)
        .select(SellerAccount::as_select())
        .first(conn)
        .optional()?)
}

/// The state of a connected account as the payment provider reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountState {
    pub charges_enabled: bool,
    pub payouts_enabled: bool,
    pub details_submitted: bool,
}

/// Stores the reported state of a connected account; answers whether a seller has it.
pub fn update_account(
    conn: &mut Conn,
    stripe_account_id: &str,
    state: AccountState,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let changed = diesel::update(
        seller_accounts::table.filter(seller_accounts::stripe_account_id.eq(stripe_account_id)),
    )
    .set((
        seller_accounts::charges_enabled.eq(state.charges_enabled),
        seller_accounts::payouts_enabled.eq(state.payouts_enabled),
        seller_accounts::details_submitted.eq(state.details_submitted),
        seller_accounts::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(changed > 0)
}
