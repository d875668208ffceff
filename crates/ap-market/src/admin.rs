//! Administration (docs/API.md, Administration): who is an administrator, the command-line
//! grant and revoke of the role, the audit log, and the queue of abuse reports.
//!
//! The role is held in the database (`api-server admin grant|revoke <email> --reason …`)
//! or given by configuration (`auth.admins`, user ids: an id is the server's own and
//! cannot be chosen, where an e-mail claim may be unverified); never through the API.
//! Every administrative action is recorded in the audit log with its reason, in the same
//! transaction as the action.

use std::sync::Arc;

use ap_domain::clock::Clock;
use ap_domain::page::{Page, PageRequest};
use ap_domain::validation::body_text_len;
use ap_domain::wire::{AbuseReport, AuditEntry};
use ap_domain::{Code, ErrorCode, FieldError, FieldErrors, UserId};
use ap_store::admin::{self, ADMIN, AuditRow, NewAuditEntry};
use ap_store::{Db, StoreError, UnitError, write_tx};
use serde_json::{Map, Value};

use crate::indexer::Indexer;
use crate::payments::{GatewayError, PaymentGateway};
use crate::present::utc;
use crate::publishing::Publisher;
use crate::reports::present;

/// Longest reason an administrator gives, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// The actor of actions taken by the server's own commands.
pub const COMMAND_LINE: &str = "command-line";

/// Why an administrative request was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The caller is not an administrator.
    #[error("This needs the admin role")]
    NotAdmin,
    /// No account has that e-mail address (command line).
    #[error("No account has the e-mail address {0}")]
    UnknownEmail(String),
    /// Several accounts share that e-mail address (command line): refuse to guess.
    #[error("{0} accounts have the e-mail address {1}; refusing to choose one")]
    AmbiguousEmail(usize, String),
    /// An action without a reason.
    #[error("A reason is required")]
    ReasonRequired,
    /// No report with that id.
    #[error("Report not found")]
    ReportNotFound,
    /// The report was closed already.
    #[error("The report is closed already")]
    ReportClosed,
    /// No listing with that slug.
    #[error("Skill not found")]
    ListingNotFound,
    /// No such version of the listing.
    #[error("Version not found")]
    VersionNotFound,
    /// No account with that id.
    #[error("User not found")]
    UserNotFound,
    /// No purchase with that id.
    #[error("Purchase not found")]
    PurchaseNotFound,
    /// The purchase was refunded already.
    #[error("This purchase was refunded already")]
    Refunded,
    /// The target is not in the state the action changes.
    #[error("Nothing to do: {0}")]
    Unchanged(&'static str),
    /// An administrator suspending their own account.
    #[error("You cannot suspend your own account")]
    SelfSuspension,
    /// A rescan is running already.
    #[error("A rescan is running already")]
    RescanRunning,
    /// No rescan with that id.
    #[error("Rescan not found")]
    RescanNotFound,
    /// A rescan could not scan an archive.
    #[error("scan failed: {0}")]
    Scan(String),
    /// The payment provider failed or refused.
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    /// The request's fields are invalid.
    #[error(transparent)]
    Invalid(#[from] FieldErrors),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UnitError for AdminError {
    fn store_error(&self) -> Option<&StoreError> {
        match self {
            AdminError::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl ErrorCode for AdminError {
    fn code(&self) -> Code {
        match self {
            AdminError::NotAdmin => Code::Forbidden,
            AdminError::UnknownEmail(_) => Code::NotFound,
            AdminError::AmbiguousEmail(..) => Code::Conflict,
            AdminError::ReasonRequired => Code::BadRequest,
            AdminError::ReportNotFound => Code::NotFound,
            AdminError::ReportClosed => Code::Conflict,
            AdminError::ListingNotFound => Code::SkillNotFound,
            AdminError::VersionNotFound
            | AdminError::UserNotFound
            | AdminError::PurchaseNotFound
            | AdminError::RescanNotFound => Code::NotFound,
            AdminError::Refunded => Code::PurchaseRefunded,
            AdminError::Unchanged(_) | AdminError::RescanRunning => Code::Conflict,
            AdminError::SelfSuspension => Code::Forbidden,
            AdminError::Scan(_) => Code::Internal,
            AdminError::Gateway(e) => e.code(),
            AdminError::Invalid(e) => e.code(),
            AdminError::Store(e) => e.code(),
        }
    }

    fn public_message(&self) -> String {
        match self {
            AdminError::Store(e) => e.public_message(),
            AdminError::Gateway(e) => e.public_message(),
            other => other.to_string(),
        }
    }

    fn field_errors(&self) -> Option<&FieldErrors> {
        match self {
            AdminError::Invalid(errors) => Some(errors),
            _ => None,
        }
    }
}

/// Parses an action's body: `{"reason": "…"}` (1–500 characters) and, when the action
/// takes one, the optional text field `optional` (1–100 characters); nothing else.
pub(crate) fn action_fields(
    body: &Map<String, Value>,
    optional: Option<&str>,
) -> Result<(String, Option<String>), FieldErrors> {
    let mut errors = FieldErrors::default();
    for name in body.keys().filter(|k| k.as_str() != "reason" && Some(k.as_str()) != optional) {
        errors.push(FieldError::body(name, "extra_forbidden", "Extra inputs are not permitted"));
    }
    let reason = errors.check(body_text_len(
        "reason",
        body.get("reason").unwrap_or(&Value::Null),
        1,
        MAX_REASON_CHARS,
    ));
    let extra = match optional.and_then(|name| Some((name, body.get(name)?))) {
        Some((_, Value::Null)) | None => None,
        Some((name, value)) => errors.check(body_text_len(name, value, 1, 100)),
    };
    errors.finish(|| (reason.unwrap_or_default(), extra))
}

/// What a role change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleChange {
    /// The account.
    pub user_id: UserId,
    /// Whether anything changed (a grant to an administrator, or a revoke from someone
    /// who is not one, changes nothing and records nothing).
    pub changed: bool,
}

/// The administration service.
#[derive(Debug, Clone)]
pub struct Admin {
    pub(crate) db: Db,
    pub(crate) clock: Arc<dyn Clock>,
    /// User ids that are administrators by configuration.
    configured: Arc<Vec<String>>,
    /// Told after every change to the catalog.
    pub(crate) indexer: Arc<Indexer>,
    /// Refunds and payout pauses.
    pub(crate) gateway: Arc<dyn PaymentGateway>,
    /// Scans (rescans read archives and run the current rules through it).
    pub(crate) publisher: Publisher,
}

impl Admin {
    /// The service; `configured` are the user ids of `auth.admins`.
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        configured: &[String],
        indexer: Arc<Indexer>,
        gateway: Arc<dyn PaymentGateway>,
        publisher: Publisher,
    ) -> Self {
        let configured = configured.iter().map(|id| id.trim().to_owned()).collect();
        Self { db, clock, configured: Arc::new(configured), indexer, gateway, publisher }
    }

    pub(crate) fn now(&self) -> chrono::NaiveDateTime {
        self.clock.now().naive_utc()
    }

    /// Whether `user_id` is an administrator by configuration.
    pub fn configured(&self, user_id: &str) -> bool {
        self.configured.iter().any(|id| id == user_id)
    }

    /// Refuses (403) unless `user_id` holds the admin role or is configured as one.
    pub async fn authorize(&self, user_id: UserId) -> Result<(), AdminError> {
        if self.configured(user_id.as_str()) {
            return Ok(());
        }
        let held = self.db.run(move |conn| admin::has_role(conn, user_id.as_str(), ADMIN)).await?;
        if held { Ok(()) } else { Err(AdminError::NotAdmin) }
    }

    /// Grants the admin role to the account with `email` (`api-server admin grant`),
    /// recording it with `reason` in the same transaction.
    pub async fn grant(&self, email: &str, reason: &str) -> Result<RoleChange, AdminError> {
        self.change_role(email, reason, true).await
    }

    /// Takes the admin role from the account with `email` (`api-server admin revoke`).
    pub async fn revoke(&self, email: &str, reason: &str) -> Result<RoleChange, AdminError> {
        self.change_role(email, reason, false).await
    }

    async fn change_role(
        &self,
        email: &str,
        reason: &str,
        grant: bool,
    ) -> Result<RoleChange, AdminError> {
        let reason = reason.trim().to_owned();
        if reason.is_empty() {
            return Err(AdminError::ReasonRequired);
        }
        let email = email.trim().to_owned();
        let at = self.clock.now().naive_utc();
        self.db
            .run(move |conn| {
                let mut ids = admin::users_with_email(conn, &email)?;
                let user_id = match ids.len() {
                    0 => return Err(AdminError::UnknownEmail(email)),
                    1 => ids.remove(0),
                    n => return Err(AdminError::AmbiguousEmail(n, email)),
                };
                write_tx(conn, |conn| {
                    let changed = if grant {
                        admin::grant(conn, user_id.as_str(), ADMIN, at)?
                    } else {
                        admin::revoke(conn, user_id.as_str(), ADMIN)?
                    };
                    if changed {
                        let target = format!("user:{}", user_id.as_str());
                        let action = if grant { "role.grant" } else { "role.revoke" };
                        admin::record(
                            conn,
                            &NewAuditEntry {
                                actor: COMMAND_LINE,
                                action,
                                target: &target,
                                reason: &reason,
                                at,
                            },
                        )?;
                    }
                    Ok(RoleChange { user_id, changed })
                })
            })
            .await
    }

    /// A page of the audit log, newest first, for an administrator.
    pub async fn audit(
        &self,
        caller: UserId,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>, AdminError> {
        self.authorize(caller).await?;
        let (rows, total) =
            self.db.run(move |conn| admin::audit_page(conn, page.limit, page.offset)).await?;
        Ok(Page::new(rows.into_iter().map(entry).collect(), total, page))
    }
}

impl Admin {
    /// A page of the abuse reports with `status` (`open` or `closed`), oldest first.
    pub async fn reports(
        &self,
        caller: UserId,
        open: bool,
        page: PageRequest,
    ) -> Result<Page<AbuseReport>, AdminError> {
        self.authorize(caller).await?;
        let status = if open { "open" } else { "closed" };
        let (rows, total) = self
            .db
            .run(move |conn| admin::reports_page(conn, status, page.limit, page.offset))
            .await?;
        let items = rows.into_iter().map(|(row, slug)| present(row, slug)).collect();
        Ok(Page::new(items, total, page))
    }

    /// Closes an open report with the administrator's reason, recorded in the audit log
    /// in the same transaction.
    pub async fn close_report(
        &self,
        caller: UserId,
        id: String,
        body: &Map<String, Value>,
    ) -> Result<AbuseReport, AdminError> {
        self.authorize(caller.clone()).await?;
        let (reason, _) = action_fields(body, None)?;
        let at = self.clock.now().naive_utc();
        self.db
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let (row, _) = admin::report(conn, &id)?.ok_or(AdminError::ReportNotFound)?;
                    if !admin::close_report(conn, &row.id, caller.as_str(), &reason, at)? {
                        return Err(AdminError::ReportClosed);
                    }
                    let target = format!("report:{}", row.id);
                    admin::record(
                        conn,
                        &NewAuditEntry {
                            actor: caller.as_str(),
                            action: "report.close",
                            target: &target,
                            reason: &reason,
                            at,
                        },
                    )?;
                    let (row, slug) =
                        admin::report(conn, &id)?.ok_or(AdminError::ReportNotFound)?;
                    Ok(present(row, slug))
                })
            })
            .await
    }
}

pub(crate) fn entry(row: AuditRow) -> AuditEntry {
    AuditEntry {
        id: row.id,
        at: utc(row.at),
        actor: row.actor,
        action: row.action,
        target: row.target,
        reason: row.reason,
    }
}
