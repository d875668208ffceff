//! Sellers: onboarding to the payment provider (a connected account, created once, and
//! onboarding links) and the stored state of that account; and the seller's figures,
//! every one from the purchases ledger (`ap_store::ledger`), in integer cents, for the
//! caller's own listings only.
//!
//! Definitions (UTC days, by the day of the sale): a sale is a paid purchase; `gross` is
//! what sales took, `refunded` what refunds gave back, `fee` the platform's fees on the
//! sales that stand, `net = gross − refunded − fee` the seller's share. Pending and
//! available money and the next payout come from the provider's balance of the seller's
//! connected account (Stripe); where the provider keeps none (the sandbox), or does not
//! answer, they follow a documented rule (`PAYOUT_DELAY_DAYS`): a sale's net becomes
//! available that many days after the sale, and is paid out daily.
//!
//! `status` has no side effects beyond refreshing the stored copy of the provider's
//! state: while the stored state is incomplete it asks the provider again, so a seller
//! who finished onboarding sees it even if the `account.updated` webhook is late.

use std::collections::HashMap;
use std::sync::Arc;

use ap_domain::analytics::{DateRange, Period};
use ap_domain::clock::Clock;
use ap_domain::commerce::PurchaseStatus;
use ap_domain::listing::SecurityStatus;
use ap_domain::page::{Page, PageRequest};
use ap_domain::wire::{
    Activity, Earnings, ListingRevenue, NextPayout, OnboardingStarted, OwnListing, Revenue,
    RevenueBreakdown, RevenuePoint, Sale, SellerStatus,
};
use ap_domain::{Code, ErrorCode, FieldErrors, UserId};
use ap_store::ledger::{self, Figures};
use ap_store::purchases::{self, AccountState, SellerAccount};
use ap_store::{Db, StoreError, UnitError, catalog, publish, sellers, users};
use chrono::{Duration, NaiveDate};
use serde_json::{Map, Value};

use crate::commerce::{Site, redirect_field};
use crate::payments::{AccountBalance, AccountFlags, AccountRequest, GatewayError, PaymentGateway};

/// Why an onboarding step failed.
#[derive(Debug, thiserror::Error)]
pub enum SellerError {
    /// The request's fields are invalid.
    #[error(transparent)]
    Invalid(#[from] FieldErrors),
    /// The payment provider failed.
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UnitError for SellerError {
    fn store_error(&self) -> Option<&StoreError> {
        match self {
            SellerError::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl ErrorCode for SellerError {
    fn code(&self) -> Code {
        match self {
            SellerError::Invalid(e) => e.code(),
            SellerError::Gateway(e) => e.code(),
            SellerError::Store(e) => e.code(),
        }
    }

    fn public_message(&self) -> String {
        match self {
            SellerError::Invalid(e) => e.to_string(),
            SellerError::Gateway(e) => e.public_message(),
            SellerError::Store(e) => e.public_message(),
        }
    }

    fn field_errors(&self) -> Option<&FieldErrors> {
        match self {
            SellerError::Invalid(errors) => Some(errors),
            _ => None,
        }
    }
}

fn complete(account: &SellerAccount) -> bool {
    account.charges_enabled && account.payouts_enabled && account.details_submitted
}

/// Seller onboarding.
#[derive(Debug, Clone)]
pub struct Sellers {
    db: Db,
    gateway: Arc<dyn PaymentGateway>,
    clock: Arc<dyn Clock>,
    site: Site,
}

impl Sellers {
    /// Onboarding over `db` through `gateway`.
    pub fn new(
        db: Db,
        gateway: Arc<dyn PaymentGateway>,
        clock: Arc<dyn Clock>,
        site: Site,
    ) -> Self {
        Self { db, gateway, clock, site }
    }

    async fn account(&self, user: &UserId) -> Result<Option<SellerAccount>, StoreError> {
        let user = user.clone();
        self.db.run(move |c| purchases::seller_account(c, user.as_str())).await
    }

    /// Stores the provider's view of an account; answers it.
    async fn store_flags(&self, account_id: String, flags: AccountFlags) -> Result<(), StoreError> {
        let now = self.clock.now().naive_utc();
        let state = AccountState {
            charges_enabled: flags.charges_enabled,
            payouts_enabled: flags.payouts_enabled,
            details_submitted: flags.details_submitted,
        };
        self.db.run(move |c| purchases::update_account(c, &account_id, state, now)).await?;
        Ok(())
    }

    /// Asks the provider for an account's state and stores it (the sandbox's onboarding
    /// page calls this after Complete).
    pub async fn refresh(&self, account_id: &str) -> Result<AccountFlags, SellerError> {
        let flags = self.gateway.account_flags(account_id).await?;
        self.store_flags(account_id.to_owned(), flags).await?;
        Ok(flags)
    }

    /// `GET /v1/sellers/status`.
    pub async fn status(&self, user: UserId) -> Result<SellerStatus, SellerError> {
        let mut account = self.account(&user).await?;
        if let Some(stored) = account.as_mut().filter(|a| !complete(a)) {
            match self.refresh(&stored.stripe_account_id).await {
                Ok(flags) => {
                    stored.charges_enabled = flags.charges_enabled;
                    stored.payouts_enabled = flags.payouts_enabled;
                    stored.details_submitted = flags.details_submitted;
                }
                // The stored state answers while the provider does not.
                Err(error) => tracing::warn!(%error, "seller status from the stored state"),
            }
        }
        let id = user.clone();
        let is_seller = self.db.run(move |c| users::is_seller(c, id.as_str())).await?;
        Ok(SellerStatus {
            is_seller,
            charges_enabled: account.as_ref().is_some_and(|a| a.charges_enabled),
            payouts_enabled: account.as_ref().is_some_and(|a| a.payouts_enabled),
            details_submitted: account.as_ref().is_some_and(|a| a.details_submitted),
            onboarding_started: account.is_some(),
        })
    }

    /// `POST /v1/sellers/connect`: the seller's connected account (created once, even
    /// under concurrent calls), then a fresh onboarding link.
    pub async fn connect(
        &self,
        user: UserId,
        body: &Map<String, Value>,
    ) -> Result<OnboardingStarted, SellerError> {
        let mut errors = FieldErrors::default();
        for name in body.keys().filter(|k| !matches!(k.as_str(), "return_url" | "refresh_url")) {
            errors.push(ap_domain::FieldError::body(
                name,
                "extra_forbidden",
                "Extra inputs are not permitted",
            ));
        }
        let return_url = errors.check(redirect_field(&self.site, body, "return_url")).flatten();
        let refresh_url = errors.check(redirect_field(&self.site, body, "refresh_url")).flatten();
        errors.finish(|| ())?;
        let return_url =
            return_url.unwrap_or_else(|| format!("{}/onboarding/done", self.site.public_url));
        let refresh_url =
            refresh_url.unwrap_or_else(|| format!("{}/onboarding", self.site.public_url));

        let account_id = match self.account(&user).await? {
            Some(account) => account.stripe_account_id,
            None => {
                let id = user.clone();
                let email = self.db.run(move |c| users::by_id(c, id.as_str())).await?.email;
                let request = AccountRequest { user_id: user.as_str().to_owned(), email };
                let account_id = self.gateway.create_account(request).await?;
                let (id, account, now) =
                    (user.clone(), account_id.clone(), self.clock.now().naive_utc());
                let inserted = self
                    .db
                    .run(move |c| {
                        publish::insert_seller_account(c, id.as_str(), &account, false, now)
                    })
                    .await;
                match inserted {
                    // A concurrent connect stored the same account (the provider's
                    // idempotency key made it the same).
                    Ok(()) | Err(StoreError::Conflict(_)) => account_id,
                    Err(other) => return Err(other.into()),
                }
            }
        };
        let link = self.gateway.onboarding_link(&account_id, &return_url, &refresh_url).await?;
        Ok(OnboardingStarted { url: link.url, expires_at: link.expires_at })
    }
}

/// Days after a sale before its net is available for payout (the sandbox's rule, and the
/// figure shown while Stripe's balance is not consulted).
pub const PAYOUT_DELAY_DAYS: i64 = 7;

/// Every sale could be in the ledger since this day.
fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default()
}

fn point(start: Option<NaiveDate>, figures: &Figures) -> RevenuePoint {
    RevenuePoint {
        period_start: start,
        gross_cents: figures.gross_cents,
        refunded_cents: figures.refunded_cents,
        fee_cents: figures.fee_cents,
        net_cents: figures.net_cents(),
        sales_count: figures.sales_count,
    }
}

fn add(into: &mut Figures, more: &Figures) {
    into.gross_cents += more.gross_cents;
    into.refunded_cents += more.refunded_cents;
    into.fee_cents += more.fee_cents;
    into.sales_count += more.sales_count;
    into.refunds_count += more.refunds_count;
}

impl Sellers {
    fn today(&self) -> NaiveDate {
        self.clock.now().date_naive()
    }

    /// The caller's day, for ranges.
    pub fn today_utc(&self) -> NaiveDate {
        self.today()
    }

    /// `GET /v1/sellers/earnings`.
    pub async fn earnings(&self, user: UserId) -> Result<Earnings, SellerError> {
        let today = self.today();
        let balance = self.provider_balance(&user).await;
        let (all, last_30, recent) = self
            .db
            .run(move |c| {
                let seller = user.as_str();
                Ok::<_, StoreError>((
                    ledger::totals(c, seller, epoch(), today)?,
                    ledger::totals(c, seller, today - Duration::days(29), today)?,
                    ledger::totals(
                        c,
                        seller,
                        today - Duration::days(PAYOUT_DELAY_DAYS - 1),
                        today,
                    )?,
                ))
            })
            .await?;
        let (pending_cents, available_cents) = match balance {
            Some(balance) => (balance.pending_cents, balance.available_cents),
            None => (recent.net_cents(), all.net_cents() - recent.net_cents()),
        };
        Ok(Earnings {
            currency: "usd".to_owned(),
            gross_cents: all.gross_cents,
            fee_cents: all.fee_cents,
            net_cents: all.net_cents(),
            refunded_cents: all.refunded_cents,
            sales_count: all.sales_count,
            last_30_days_net_cents: last_30.net_cents(),
            pending_cents,
            available_cents,
        })
    }

    /// The connected account's balance at the provider: `None` without an account, with
    /// a provider that keeps none (the sandbox), or when it does not answer (the
    /// documented rule answers then).
    async fn provider_balance(&self, user: &UserId) -> Option<AccountBalance> {
        let account = self.account(user).await.ok().flatten()?;
        match self.gateway.balance(&account.stripe_account_id).await {
            Ok(balance) => balance,
            Err(error) => {
                tracing::warn!(%error, "seller balance from the payout rule");
                None
            }
        }
    }

    /// `GET /v1/sellers/next-payout`: tomorrow's payout of the sales that become
    /// available then.
    pub async fn next_payout(&self, user: UserId) -> Result<NextPayout, SellerError> {
        let expected_date = self.today() + Duration::days(1);
        if let Some(balance) = self.provider_balance(&user).await {
            let (expected_date, expected_cents) =
                balance.next_payout.map_or((expected_date, 0), |p| (p.arrives_on, p.amount_cents));
            return Ok(NextPayout { expected_date, expected_cents, currency: "usd".to_owned() });
        }
        let day = expected_date - Duration::days(PAYOUT_DELAY_DAYS);
        let figures = self.db.run(move |c| ledger::totals(c, user.as_str(), day, day)).await?;
        Ok(NextPayout {
            expected_date,
            expected_cents: figures.net_cents(),
            currency: "usd".to_owned(),
        })
    }

    /// `GET /v1/sellers/revenue`: every period of the range, empty ones as zeros.
    pub async fn revenue(
        &self,
        user: UserId,
        period: Period,
        range: DateRange,
    ) -> Result<Revenue, SellerError> {
        let days =
            self.db.run(move |c| ledger::by_day(c, user.as_str(), range.from, range.to)).await?;
        let starts = period.buckets(range.from, range.to);
        let mut buckets: Vec<Figures> = vec![Figures::default(); starts.len()];
        let mut totals = Figures::default();
        for (day, figures) in &days {
            let start = period.start_of(*day);
            if let Ok(slot) = starts.binary_search(&start) {
                add(&mut buckets[slot], figures);
            }
            add(&mut totals, figures);
        }
        Ok(Revenue {
            currency: "usd".to_owned(),
            period: period.as_str().to_owned(),
            series: starts.iter().zip(&buckets).map(|(s, f)| point(Some(*s), f)).collect(),
            totals: point(None, &totals),
        })
    }

    /// `GET /v1/sellers/revenue/breakdown`: per listing, most net first.
    pub async fn breakdown(
        &self,
        user: UserId,
        range: DateRange,
    ) -> Result<RevenueBreakdown, SellerError> {
        let (rows, cards) = self
            .db
            .run(move |c| {
                let rows = ledger::by_listing(c, user.as_str(), range.from, range.to)?;
                let ids: Vec<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
                let cards = catalog::cards_with_authors(c, &ids)?;
                Ok::<_, StoreError>((rows, cards))
            })
            .await?;
        let mut totals = Figures::default();
        let mut items: Vec<ListingRevenue> = rows
            .iter()
            .filter_map(|(id, figures)| {
                add(&mut totals, figures);
                let (card, _) = cards.iter().find(|(c, _)| c.id == *id.as_str())?;
                Some(ListingRevenue {
                    skill_slug: card.slug.clone(),
                    skill_title: card.title.clone(),
                    sales_count: figures.sales_count,
                    gross_cents: figures.gross_cents,
                    fee_cents: figures.fee_cents,
                    net_cents: figures.net_cents(),
                    refunded_cents: figures.refunded_cents,
                })
            })
            .collect();
        items.sort_by(|a, b| b.net_cents.cmp(&a.net_cents).then(a.skill_slug.cmp(&b.skill_slug)));
        Ok(RevenueBreakdown { currency: "usd".to_owned(), items, totals: point(None, &totals) })
    }

    /// `GET /v1/sellers/sales`: paid sales in the range, newest first (no buyer details).
    pub async fn sales(
        &self,
        user: UserId,
        range: DateRange,
        skill: Option<String>,
        page: PageRequest,
    ) -> Result<Page<Sale>, SellerError> {
        let from = range.from.and_hms_opt(0, 0, 0).unwrap_or_default();
        let to = (range.to + Duration::days(1)).and_hms_opt(0, 0, 0).unwrap_or_default();
        let (rows, total, cards) = self
            .db
            .run(move |c| {
                let listing = match &skill {
                    Some(slug) => match catalog::listing_by_slug(c, slug, None)? {
                        Some((card, _)) if card.owner_id == user => Some(card.id.into_string()),
                        _ => return Ok::<_, StoreError>((Vec::new(), 0, Vec::new())),
                    },
                    None => None,
                };
                let (rows, total) = sellers::sales(
                    c,
                    user.as_str(),
                    from,
                    to,
                    listing.as_deref(),
                    page.limit,
                    page.offset,
                )?;
                let ids: Vec<&str> = rows.iter().map(|p| p.listing_id.as_str()).collect();
                let cards = catalog::cards_with_authors(c, &ids)?;
                Ok((rows, total, cards))
            })
            .await?;
        let items = rows
            .iter()
            .filter_map(|p| {
                let (card, _) = cards.iter().find(|(c, _)| c.id == p.listing_id)?;
                let net = if p.status == PurchaseStatus::Refunded {
                    0
                } else {
                    p.amount_cents - p.fee_cents
                };
                Some(Sale {
                    purchase_id: p.id.clone(),
                    skill_slug: card.slug.clone(),
                    skill_title: card.title.clone(),
                    amount_cents: p.amount_cents,
                    fee_cents: if p.status == PurchaseStatus::Refunded { 0 } else { p.fee_cents },
                    net_cents: net,
                    currency: p.currency.clone(),
                    status: p.status,
                    purchased_at: crate::present::utc(p.completed_at.unwrap_or(p.created_at)),
                })
            })
            .collect();
        Ok(Page::new(items, total, page))
    }

    /// `GET /v1/sellers/skills`: the caller's listings in every state, with their figures.
    pub async fn listings(
        &self,
        user: UserId,
        page: PageRequest,
    ) -> Result<Page<OwnListing>, SellerError> {
        let today = self.today();
        let (cards, total, blocked, figures) = self
            .db
            .run(move |c| {
                let (ids, total) =
                    sellers::own_listing_ids(c, user.as_str(), page.limit, page.offset)?;
                let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                let cards = catalog::cards_with_authors(c, &ids)?;
                let blocked = sellers::with_blocked_versions(c, &ids)?;
                let figures: HashMap<String, Figures> =
                    ledger::by_listing(c, user.as_str(), epoch(), today)?.into_iter().collect();
                Ok::<_, StoreError>((cards, total, blocked, figures))
            })
            .await?;
        let items = cards
            .into_iter()
            .map(|(card, _)| {
                let status = if card.archived_at.is_some() {
                    "archived"
                } else if card.live_version_id.is_some() {
                    "live"
                } else if blocked.iter().any(|b| card.id == *b.as_str()) {
                    "blocked"
                } else {
                    "pending"
                };
                let f = figures.get(card.id.as_str()).copied().unwrap_or_default();
                OwnListing {
                    slug: card.slug,
                    title: card.title,
                    listing_type: card.listing_type,
                    status: status.to_owned(),
                    version: card.current_version,
                    security_status: if card.live_version_id.is_some() {
                        card.security_status
                    } else {
                        SecurityStatus::Pending
                    },
                    price_cents: card.price_cents,
                    download_count: card.download_count,
                    install_count: card.install_count,
                    sales_count: f.sales_count,
                    gross_cents: f.gross_cents,
                    net_cents: f.net_cents(),
                    rating_average: (card.rating_count > 0).then_some(card.rating_average),
                    rating_count: card.rating_count,
                }
            })
            .collect();
        Ok(Page::new(items, total, page))
    }

    /// `GET /v1/sellers/activity`: what happened to the caller's listings, newest first.
    pub async fn activity(
        &self,
        user: UserId,
        page: PageRequest,
    ) -> Result<Page<Activity>, SellerError> {
        let n = page.offset + page.limit;
        let (mut happenings, total, cards) = self
            .db
            .run(move |c| {
                let (happenings, total) = sellers::happenings(c, user.as_str(), n)?;
                let mut ids: Vec<&str> = happenings.iter().map(|h| h.listing_id.as_str()).collect();
                ids.sort_unstable();
                ids.dedup();
                let cards = catalog::cards_with_authors(c, &ids)?;
                Ok::<_, StoreError>((happenings, total, cards))
            })
            .await?;
        happenings.sort_by(|a, b| b.at.cmp(&a.at).then(a.kind.cmp(b.kind)));
        let items = happenings
            .into_iter()
            .skip(usize::try_from(page.offset).unwrap_or(0))
            .take(usize::try_from(page.limit).unwrap_or(0))
            .filter_map(|h| {
                let (card, _) = cards.iter().find(|(c, _)| c.id == *h.listing_id.as_str())?;
                let money = |cents: Option<i64>| {
                    let cents = cents.unwrap_or(0);
                    format!("${}.{:02}", cents / 100, cents % 100)
                };
                let summary = match h.kind {
                    "sale" => format!("Sold {} for {}", card.title, money(h.amount_cents)),
                    "refund" => format!("Refunded {} ({})", card.title, money(h.amount_cents)),
                    "install" => format!("{} was installed", card.title),
                    "review" => {
                        format!("{} was rated {}/5", card.title, h.rating.unwrap_or_default())
                    }
                    "version_published" => format!(
                        "Version {} of {} published",
                        h.version.clone().unwrap_or_default(),
                        card.title
                    ),
                    _ => format!(
                        "Version {} of {} was blocked by the security scan",
                        h.version.clone().unwrap_or_default(),
                        card.title
                    ),
                };
                Some(Activity {
                    kind: h.kind.to_owned(),
                    at: crate::present::utc(h.at),
                    skill_slug: card.slug.clone(),
                    summary,
                    amount_cents: h.amount_cents,
                })
            })
            .collect();
        Ok(Page::new(items, total, page))
    }
}
