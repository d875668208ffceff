//! Roles, the audit log and abuse reports: who holds the `admin` role, the append-only
//! record of every administrative action with its reason (the database refuses changes
//! to it), and the reports users file against listings (at most one open per reporter
//! and listing, a unique index says so).

use ap_domain::UserId;
use chrono::{NaiveDateTime, SubsecRound};
use diesel::prelude::*;

use crate::conn::Conn;
use crate::error::StoreError;
use crate::schema::{abuse_reports, audit_log, listings, user_roles, users};

/// The administrator role's name in `user_roles`.
pub const ADMIN: &str = "admin";

/// One recorded action.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: String,
    pub at: NaiveDateTime,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub reason: String,
}

/// An action to record.
#[derive(Debug, Clone)]
pub struct NewAuditEntry<'a> {
    /// A user id, or `command-line` for the server's own commands.
    pub actor: &'a str,
    /// What was done, e.g. `role.grant`.
    pub action: &'a str,
    /// What it was done to, e.g. `user:<id>`.
    pub target: &'a str,
    /// Why (required).
    pub reason: &'a str,
    pub at: NaiveDateTime,
}

/// Whether the user holds `role`.
pub fn has_role(conn: &mut Conn, user_id: &str, role: &str) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(
        user_roles::table.filter(user_roles::user_id.eq(user_id)).filter(user_roles::role.eq(role)),
    ))
    .get_result(conn)?)
}

/// The ids of the users with this e-mail address (compared without regard to case).
pub fn users_with_email(conn: &mut Conn, email: &str) -> Result<Vec<UserId>, StoreError> {
    let wanted = email.trim().to_lowercase();
    let rows: Vec<(UserId, Option<String>)> = users::table
        .filter(users::email.is_not_null())
        .select((users::id, users::email))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|(_, email)| email.as_deref().is_some_and(|e| e.trim().to_lowercase() == wanted))
        .map(|(id, _)| id)
        .collect())
}

/// Gives the user `role`; answers whether they lacked it.
pub fn grant(
    conn: &mut Conn,
    user_id: &str,
    role: &str,
    at: NaiveDateTime,
) -> Result<bool, StoreError> {
    if has_role(conn, user_id, role)? {
        return Ok(false);
    }
    diesel::insert_into(user_roles::table)
        .values((
            user_roles::user_id.eq(user_id),
            user_roles::role.eq(role),
            user_roles::granted_at.eq(at),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Takes `role` from the user; answers whether they held it.
pub fn revoke(conn: &mut Conn, user_id: &str, role: &str) -> Result<bool, StoreError> {
    let removed = diesel::delete(
        user_roles::table.filter(user_roles::user_id.eq(user_id)).filter(user_roles::role.eq(role)),
    )
    .execute(conn)?;
    Ok(removed > 0)
}

/// Appends one entry to the audit log and answers it. Run it in the transaction of the
/// action it records.
pub fn record(conn: &mut Conn, entry: &NewAuditEntry<'_>) -> Result<AuditRow, StoreError> {
    let row = AuditRow {
        id: uuid::Uuid::now_v7().to_string(),
        // As stored (microseconds), so the entry answered is the entry read back.
        at: entry.at.trunc_subsecs(6),
        actor: entry.actor.to_owned(),
        action: entry.action.to_owned(),
        target: entry.target.to_owned(),
        reason: entry.reason.to_owned(),
    };
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::id.eq(&row.id),
            audit_log::at.eq(row.at),
            audit_log::actor.eq(&row.actor),
            audit_log::action.eq(&row.action),
            audit_log::target.eq(&row.target),
            audit_log::reason.eq(&row.reason),
        ))
        .execute(conn)?;
    Ok(row)
}

/// A page of the audit log, newest first, with the total.
pub fn audit_page(
    conn: &mut Conn,
    limit: i64,
    offset: i64,
) -> Result<(Vec<AuditRow>, i64), StoreError> {
    let total: i64 = audit_log::table.count().get_result(conn)?;
    let rows = audit_log::table
        .order((audit_log::at.desc(), audit_log::id.desc()))
        .limit(limit)
        .offset(offset)
        .select(AuditRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// A stored abuse report.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = abuse_reports)]
pub struct ReportRow {
    pub id: String,
    pub listing_id: String,
    pub reporter_id: String,
    pub reason: String,
    pub text: Option<String>,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
    pub closed_by: Option<String>,
    pub resolution: Option<String>,
}

/// A report and the slug of the listing it is about.
pub type ReportWithSlug = (ReportRow, String);

/// A report to file.
#[derive(Debug, Clone)]
pub struct NewReport<'a> {
    pub listing_id: &'a str,
    pub reporter_id: &'a str,
    pub reason: &'a str,
    pub text: Option<&'a str>,
    pub at: NaiveDateTime,
}

/// Whether the reporter has an open report on the listing.
pub fn open_report_exists(
    conn: &mut Conn,
    listing_id: &str,
    reporter_id: &str,
) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(
        abuse_reports::table
            .filter(abuse_reports::listing_id.eq(listing_id))
            .filter(abuse_reports::reporter_id.eq(reporter_id))
            .filter(abuse_reports::status.eq("open")),
    ))
    .get_result(conn)?)
}

/// Files an open report; answers it.
pub fn file_report(conn: &mut Conn, report: &NewReport<'_>) -> Result<ReportRow, StoreError> {
    let id = uuid::Uuid::now_v7().to_string();
    diesel::insert_into(abuse_reports::table)
        .values((
            abuse_reports::id.eq(&id),
            abuse_reports::listing_id.eq(report.listing_id),
            abuse_reports::reporter_id.eq(report.reporter_id),
            abuse_reports::reason.eq(report.reason),
            abuse_reports::text.eq(report.text),
            abuse_reports::status.eq("open"),
            abuse_reports::created_at.eq(report.at),
        ))
        .execute(conn)?;
    Ok(abuse_reports::table.find(&id).select(ReportRow::as_select()).first(conn)?)
}

/// A page of the reports with `status`, oldest first (the queue order), with the
/// listings' slugs and the total.
pub fn reports_page(
    conn: &mut Conn,
    status: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ReportWithSlug>, i64), StoreError> {
    let total: i64 =
        abuse_reports::table.filter(abuse_reports::status.eq(status)).count().get_result(conn)?;
    let rows = abuse_reports::table
        .inner_join(listings::table)
        .filter(abuse_reports::status.eq(status))
        .order((abuse_reports::created_at.asc(), abuse_reports::id.asc()))
        .limit(limit)
        .offset(offset)
        .select((ReportRow::as_select(), listings::slug))
        .load(conn)?;
    Ok((rows, total))
}

/// One report with its listing's slug.
pub fn report(conn: &mut Conn, id: &str) -> Result<Option<ReportWithSlug>, StoreError> {
    Ok(abuse_reports::table
        .inner_join(listings::table)
        .filter(abuse_reports::id.eq(id))
        .select((ReportRow::as_select(), listings::slug))
        .first(conn)
        .optional()?)
}

/// Closes an open report; answers whether it was open.
pub fn close_report(
    conn: &mut Conn,
    id: &str,
    by: &str,
    resolution: &str,
    at: NaiveDateTime,
) -> Result<bool, StoreError> {
    let closed = diesel::update(
        abuse_reports::table
            .filter(abuse_reports::id.eq(id))
            .filter(abuse_reports::status.eq("open")),
    )
    .set((
        abuse_reports::status.eq("closed"),
        abuse_reports::closed_at.eq(at),
        abuse_reports::closed_by.eq(by),
        abuse_reports::resolution.eq(resolution),
    ))
    .execute(conn)?;
    Ok(closed > 0)
}
