//! Reviews (docs/API.md, Reviews): who may review (a paid listing: a completed,
//! unrefunded purchase or a redeemed code; a free one: an install recorded while signed
//! in; never one's own), one review per user and listing (a second replaces the first),
//! hidden characters stripped and the text scanned for prompt injection, and the
//! listing's rating moved in the same transaction.

use std::sync::Arc;

use ap_domain::clock::Clock;
use ap_domain::listing::ListingType;
use ap_domain::page::{Page, PageRequest};
use ap_domain::wire::{Review, ReviewsPage};
use ap_domain::{Code, ErrorCode, FieldErrors, UserId};
use ap_scan::Severity;
use ap_store::reviews::{self, NewReview, ReviewRow};
use ap_store::{Db, StoreError, UnitError, catalog, publish, usage, write_tx};
use serde_json::{Map, Value};

use crate::indexer::Indexer;
use crate::present::utc;

/// Why a review was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// No such live listing.
    #[error("Skill not found")]
    NotFound,
    /// One's own listing.
    #[error("You cannot review your own listing")]
    OwnListing,
    /// A paid listing not bought.
    #[error("Buy this listing to review it")]
    PurchaseRequired,
    /// A free listing not installed while signed in.
    #[error("Install this listing (signed in) to review it")]
    InstallRequired,
    /// The text failed the scan (with its findings).
    #[error("The review text failed the security scan")]
    TextRejected(Vec<Value>),
    /// The request's fields are invalid.
    #[error(transparent)]
    Invalid(#[from] FieldErrors),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UnitError for ReviewError {
    fn store_error(&self) -> Option<&StoreError> {
        match self {
            ReviewError::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl ErrorCode for ReviewError {
    fn code(&self) -> Code {
        match self {
            ReviewError::NotFound => Code::SkillNotFound,
            ReviewError::OwnListing => Code::OwnSkill,
            ReviewError::PurchaseRequired => Code::PurchaseRequired,
            ReviewError::InstallRequired => Code::InstallRequired,
            ReviewError::TextRejected(_) => Code::ReviewTextRejected,
            ReviewError::Invalid(e) => e.code(),
            ReviewError::Store(e) => e.code(),
        }
    }

    fn public_message(&self) -> String {
        match self {
            ReviewError::Store(e) => e.public_message(),
            other => other.to_string(),
        }
    }

    fn findings(&self) -> Option<&[Value]> {
        match self {
            ReviewError::TextRejected(findings) => Some(findings),
            _ => None,
        }
    }

    fn field_errors(&self) -> Option<&FieldErrors> {
        match self {
            ReviewError::Invalid(errors) => Some(errors),
            _ => None,
        }
    }
}

/// The findings of `text`'s prompt-injection scan (as reviews and abuse reports are
/// scanned) when one of them blocks it; `None` for no text or text that passes.
pub fn injection_findings(text: Option<&str>) -> Result<Option<Vec<Value>>, StoreError> {
    let Some(text) = text else { return Ok(None) };
    let findings = ap_scan::scan_review(text);
    if !findings.iter().any(|f| f.severity == Severity::High) {
        return Ok(None);
    }
    let values = findings.iter().map(serde_json::to_value).collect::<Result<Vec<_>, _>>();
    Ok(Some(values.map_err(StoreError::from)?))
}

/// The wire shape of a stored review.
fn review(row: ReviewRow, name: Option<String>, slug: Option<String>) -> Review {
    let name = name.unwrap_or_else(|| "deleted user".to_owned());
    Review {
        id: row.id,
        rating: row.rating,
        text: row.text,
        author: name.clone(),
        author_display_name: name,
        author_display_name_slug: slug.unwrap_or_default(),
        verified_purchase: row.verified_purchase,
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
    }
}

/// Reviews and ratings.
#[derive(Debug, Clone)]
pub struct Reviews {
    db: Db,
    clock: Arc<dyn Clock>,
    indexer: Arc<Indexer>,
}

impl Reviews {
    /// Reviews over `db`; a review refreshes the catalog's search index and caches
    /// (ratings show on listings).
    pub fn new(db: Db, clock: Arc<dyn Clock>, indexer: Arc<Indexer>) -> Self {
        Self { db, clock, indexer }
    }

    /// `GET /v1/skills/{slug}/reviews`: newest first.
    pub async fn page(
        &self,
        slug: String,
        kind: Option<ListingType>,
        page: PageRequest,
    ) -> Result<ReviewsPage, ReviewError> {
        let (card, rows, total) = self
            .db
            .run(move |c| {
                let (card, _) = catalog::listing_by_slug(c, &slug, kind)?
                    .filter(|(card, _)| card.is_live())
                    .ok_or(ReviewError::NotFound)?;
                let (rows, total) = reviews::page(c, card.id.as_str(), page.limit, page.offset)?;
                Ok::<_, ReviewError>((card, rows, total))
            })
            .await?;
        let items: Vec<Review> =
            rows.into_iter().map(|(row, name, slug)| review(row, name, slug)).collect();
        let page = Page::new(items, total, page);
        Ok(ReviewsPage {
            reviews: page.items.clone(),
            items: page.items,
            total: page.total,
            limit: page.limit,
            offset: page.offset,
            average_rating: (card.rating_count > 0).then_some(card.rating_average),
            rating_count: card.rating_count,
        })
    }

    /// `POST /v1/skills/{slug}/reviews`: the caller's review; answers it and whether it
    /// is new (201) or replaced an earlier one (200).
    pub async fn submit(
        &self,
        user: UserId,
        slug: String,
        kind: Option<ListingType>,
        body: &Map<String, Value>,
    ) -> Result<(Review, bool), ReviewError> {
        let input = ap_domain::reviews::parse(body)?;
        if let Some(findings) = injection_findings(input.text.as_deref())? {
            return Err(ReviewError::TextRejected(findings));
        }
        let now = self.clock.now().naive_utc();
        let (row, created, name, display_slug) = self
            .db
            .run(move |c| {
                write_tx(c, |c| {
                    publish::lock_listing(c, &slug)?;
                    let (card, _) = catalog::listing_by_slug(c, &slug, kind)?
                        .filter(|(card, _)| card.is_live())
                        .ok_or(ReviewError::NotFound)?;
                    if card.owner_id == user {
                        return Err(ReviewError::OwnListing);
                    }
                    let bought =
                        usage::purchase_access(c, user.as_str(), card.id.as_str())?.is_some();
                    if card.price_cents > 0 && !bought {
                        return Err(ReviewError::PurchaseRequired);
                    }
                    if card.price_cents == 0
                        && !bought
                        && !reviews::installed_by(c, user.as_str(), card.id.as_str())?
                    {
                        return Err(ReviewError::InstallRequired);
                    }
                    let (row, created) = reviews::upsert(
                        c,
                        &NewReview {
                            listing_id: card.id.as_str(),
                            user_id: user.as_str(),
                            rating: input.rating,
                            text: input.text.as_deref(),
                            verified_purchase: bought,
                            now,
                        },
                    )?;
                    let author = ap_store::users::by_id(c, user.as_str())?;
                    Ok((row, created, author.display_name, author.display_name_slug))
                })
            })
            .await?;
        self.indexer.after_change().await;
        Ok((review(row, name, display_slug), created))
    }
}
