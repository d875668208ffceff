//! Abuse reports (docs/API.md, Abuse reports): any signed-in user may report a live
//! listing for one of a fixed list of reasons, with an optional note scanned for prompt
//! injection like a review (administrators read it); one open report per user and
//! listing; never one's own listing. Administrators work the queue (`admin::Admin`).

use std::sync::Arc;

use ap_domain::clock::Clock;
use ap_domain::listing::ListingType;
use ap_domain::wire::AbuseReport;
use ap_domain::{Code, ErrorCode, FieldErrors, UserId};
use ap_store::admin::{self, NewReport, ReportRow};
use ap_store::{Db, StoreError, UnitError, catalog, publish, write_tx};
use serde_json::{Map, Value};

use crate::present::utc;
use crate::reviews::injection_findings;

/// Why a report was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// No such live listing.
    #[error("Skill not found")]
    NotFound,
    /// One's own listing.
    #[error("You cannot report your own listing")]
    OwnListing,
    /// The caller's earlier report on this listing is still open.
    #[error("You already have an open report on this listing")]
    AlreadyOpen,
    /// The note failed the scan (with its findings).
    #[error("The report text failed the security scan")]
    TextRejected(Vec<Value>),
    /// The request's fields are invalid.
    #[error(transparent)]
    Invalid(#[from] FieldErrors),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UnitError for ReportError {
    fn store_error(&self) -> Option<&StoreError> {
        match self {
            ReportError::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl ErrorCode for ReportError {
    fn code(&self) -> Code {
        match self {
            ReportError::NotFound => Code::SkillNotFound,
            ReportError::OwnListing => Code::OwnSkill,
            ReportError::AlreadyOpen => Code::Conflict,
            ReportError::TextRejected(_) => Code::ReportTextRejected,
            ReportError::Invalid(e) => e.code(),
            ReportError::Store(e) => e.code(),
        }
    }

    fn public_message(&self) -> String {
        match self {
            ReportError::Store(e) => e.public_message(),
            other => other.to_string(),
        }
    }

    fn findings(&self) -> Option<&[Value]> {
        match self {
            ReportError::TextRejected(findings) => Some(findings),
            _ => None,
        }
    }

    fn field_errors(&self) -> Option<&FieldErrors> {
        match self {
            ReportError::Invalid(errors) => Some(errors),
            _ => None,
        }
    }
}

/// The wire shape of a stored report.
pub fn present(row: ReportRow, listing_slug: String) -> AbuseReport {
    AbuseReport {
        id: row.id,
        listing_slug,
        reporter_id: row.reporter_id,
        reason: row.reason,
        text: row.text,
        status: row.status,
        created_at: utc(row.created_at),
        closed_at: row.closed_at.map(utc),
        resolution: row.resolution,
    }
}

/// Filing abuse reports.
#[derive(Debug, Clone)]
pub struct Reports {
    db: Db,
    clock: Arc<dyn Clock>,
}

impl Reports {
    /// Reports over `db`.
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }

    /// `POST /v1/skills/{slug}/report`: files the caller's report.
    pub async fn file(
        &self,
        user: UserId,
        slug: String,
        kind: Option<ListingType>,
        body: &Map<String, Value>,
    ) -> Result<AbuseReport, ReportError> {
        let input = ap_domain::reports::parse(body)?;
        if let Some(findings) = injection_findings(input.text.as_deref())? {
            return Err(ReportError::TextRejected(findings));
        }
        let at = self.clock.now().naive_utc();
        let row = self
            .db
            .run(move |c| {
                write_tx(c, |c| {
                    publish::lock_listing(c, &slug)?;
                    let (card, _) = catalog::listing_by_slug(c, &slug, kind)?
                        .filter(|(card, _)| card.is_live())
                        .ok_or(ReportError::NotFound)?;
                    if card.owner_id == user {
                        return Err(ReportError::OwnListing);
                    }
                    if admin::open_report_exists(c, card.id.as_str(), user.as_str())? {
                        return Err(ReportError::AlreadyOpen);
                    }
                    let row = admin::file_report(
                        c,
                        &NewReport {
                            listing_id: card.id.as_str(),
                            reporter_id: user.as_str(),
                            reason: &input.reason,
                            text: input.text.as_deref(),
                            at,
                        },
                    )?;
                    Ok((row, card.slug))
                })
            })
            .await?;
        Ok(present(row.0, row.1))
    }
}
