//! Commerce: checkout, purchases, license codes, refunds and webhook deliveries.
//!
//! Access to a paid listing is granted in exactly one place, [`Commerce::fulfil`], which
//! the webhook, `confirm`, the purchase download and the sandbox's Pay button all call.
//! It retrieves the checkout from the payment provider and grants only when that says
//! *paid*; it is idempotent (a purchase is completed at most once, under a row lock), so
//! duplicate, concurrent and out-of-order deliveries converge to the same state. A full
//! refund is remembered by payment even when it arrives before its checkout is
//! fulfilled, and wins.

use std::sync::Arc;

use ap_domain::clock::Clock;
use ap_domain::commerce::{LicenseCode, PurchaseStatus, split};
use ap_domain::page::{Page, PageRequest};
use ap_domain::validation::body_text;
use ap_domain::wire::{
    CheckoutStarted, PurchaseDownload, PurchaseItem, PurchaseState, PurchasesPage, Redeemed,
};
use ap_domain::{Code, ErrorCode, FieldError, FieldErrors, UserId};
use ap_store::purchases::{self, AccountState, NewPurchase, Purchase};
use ap_store::{Db, StoreError, UnitError, catalog, moderation, usage, users, write_tx};
use chrono::NaiveDateTime;
use serde_json::{Map, Value};
use url::{Host, Url};

use crate::counters::Visitor;
use crate::downloads::{DownloadError, Downloads};
use crate::payments::{CheckoutRequest, GatewayError, GatewayEvent, PaymentGateway, SessionState};
use crate::present::utc;

/// How long an unpaid checkout is offered again instead of a new one (Stripe's default
/// checkout lifetime).
const OPEN_CHECKOUT_HOURS: i64 = 23;

/// The placeholder the payment provider replaces with the session id in a success URL.
pub const SESSION_PLACEHOLDER: &str = "{CHECKOUT_SESSION_ID}";

/// Why a commerce step was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum CommerceError {
    /// No such live listing.
    #[error("Skill not found")]
    ListingNotFound,
    /// No such purchase of the caller's.
    #[error("Purchase not found")]
    PurchaseNotFound,
    /// No such license code.
    #[error("License code not found")]
    CodeNotFound,
    /// A free listing.
    #[error("This listing is free; install it instead")]
    NotForSale,
    /// One's own listing.
    #[error("You cannot buy your own listing")]
    OwnListing,
    /// Owned already.
    #[error("You already own this listing")]
    AlreadyPurchased,
    /// The seller cannot take charges.
    #[error("The seller cannot take payments yet")]
    SellerNotReady,
    /// Another account claimed the code.
    #[error("This license code was redeemed by another account")]
    AlreadyRedeemed,
    /// The purchase was refunded.
    #[error("This purchase was refunded")]
    Refunded,
    /// The request's fields are invalid.
    #[error(transparent)]
    Invalid(#[from] FieldErrors),
    /// The payment provider failed.
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    /// Issuing the download link failed.
    #[error(transparent)]
    Download(#[from] DownloadError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<FieldError> for CommerceError {
    fn from(error: FieldError) -> Self {
        CommerceError::Invalid(error.into())
    }
}

impl UnitError for CommerceError {
    fn store_error(&self) -> Option<&StoreError> {
        match self {
            CommerceError::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl ErrorCode for CommerceError {
    fn code(&self) -> Code {
        match self {
            CommerceError::ListingNotFound => Code::SkillNotFound,
            CommerceError::PurchaseNotFound | CommerceError::CodeNotFound => Code::NotFound,
            CommerceError::NotForSale => Code::NotForSale,
            CommerceError::OwnListing => Code::OwnSkill,
            CommerceError::AlreadyPurchased => Code::AlreadyPurchased,
            CommerceError::SellerNotReady => Code::SellerNotReady,
            CommerceError::AlreadyRedeemed => Code::LicenseAlreadyRedeemed,
            CommerceError::Refunded => Code::PurchaseRefunded,
            CommerceError::Invalid(e) => e.code(),
            CommerceError::Gateway(e) => e.code(),
            CommerceError::Download(e) => e.code(),
            CommerceError::Store(e) => e.code(),
        }
    }

    fn public_message(&self) -> String {
        match self {
            CommerceError::Gateway(e) => e.public_message(),
            CommerceError::Download(e) => e.public_message(),
            CommerceError::Store(e) => e.public_message(),
            other => other.to_string(),
        }
    }

    fn field_errors(&self) -> Option<&FieldErrors> {
        match self {
            CommerceError::Invalid(errors) => Some(errors),
            _ => None,
        }
    }
}

/// Where checkouts send buyers back to, and which redirect URLs a client may ask for.
#[derive(Debug, Clone)]
pub struct Site {
    /// The server's public URL (no trailing slash): the site pages live here.
    pub public_url: String,
    /// Further origins (`https://shop.example`) a client may redirect buyers to, beside
    /// the public URL and loopback addresses.
    pub extra_redirect_origins: Vec<String>,
}

impl Site {
    /// Whether `url` may receive a buyer: an absolute http(s) URL on the site, on a
    /// configured origin, or on a loopback address (a local client's page).
    fn allows(&self, url: &Url) -> bool {
        if !matches!(url.scheme(), "http" | "https")
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return false;
        }
        let loopback = match url.host() {
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            Some(Host::Domain(name)) => name == "localhost",
            None => false,
        };
        let origin = url.origin().ascii_serialization();
        let site = Url::parse(&self.public_url).map(|u| u.origin().ascii_serialization());
        loopback
            || site.is_ok_and(|site| site == origin)
            || self.extra_redirect_origins.iter().any(|o| o.trim_end_matches('/') == origin)
    }

    /// The success page of this site.
    pub fn success_url(&self) -> String {
        format!("{}/purchase/success?session_id={SESSION_PLACEHOLDER}", self.public_url)
    }
}

/// A redirect URL from the request body (`None` when absent or empty), checked against
/// the site's allow-list.
pub fn redirect_field(
    site: &Site,
    body: &Map<String, Value>,
    name: &str,
) -> Result<Option<String>, FieldError> {
    let Some(raw) =
        body_text(name, body.get(name).unwrap_or(&Value::Null))?.filter(|s| !s.trim().is_empty())
    else {
        return Ok(None);
    };
    let allowed = raw.len() <= 2000
        && Url::parse(&raw.replace(SESSION_PLACEHOLDER, "cs")).is_ok_and(|u| site.allows(&u));
    if !allowed {
        return Err(FieldError::body(
            name,
            "url_not_allowed",
            "Redirect URLs must be absolute http(s) URLs on this site or a loopback address",
        ));
    }
    Ok(Some(raw))
}

/// The success URL with the session placeholder: appended when the client left it out
/// (the Codex plugin sends the bare success page).
fn with_session_placeholder(url: String) -> String {
    if url.contains(SESSION_PLACEHOLDER) {
        return url;
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}session_id={SESSION_PLACEHOLDER}")
}

/// A checkout as its pages show it (the sandbox's payment page, the success page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutView {
    /// The listing's title.
    pub title: String,
    /// The listing's slug.
    pub slug: String,
    /// The price.
    pub amount_cents: i64,
    /// `usd`.
    pub currency: String,
    /// Where the purchase stands.
    pub status: PurchaseStatus,
    /// The license code, once paid.
    pub license_code: Option<String>,
}

/// What a checkout needs to know, read in one unit of work.
struct CheckoutPlan {
    purchase: NewPurchase,
    request: CheckoutRequest,
}

/// Checkout, purchases and their fulfilment.
#[derive(Debug, Clone)]
pub struct Commerce {
    db: Db,
    gateway: Arc<dyn PaymentGateway>,
    downloads: Downloads,
    clock: Arc<dyn Clock>,
    site: Site,
}

impl Commerce {
    /// Commerce over `db` through `gateway`; paid downloads through `downloads`.
    pub fn new(
        db: Db,
        gateway: Arc<dyn PaymentGateway>,
        downloads: Downloads,
        clock: Arc<dyn Clock>,
        site: Site,
    ) -> Self {
        Self { db, gateway, downloads, clock, site }
    }

    fn now(&self) -> NaiveDateTime {
        self.clock.now().naive_utc()
    }

    /// The payment provider (the sandbox pages reach its controls through it).
    pub fn gateway(&self) -> &Arc<dyn PaymentGateway> {
        &self.gateway
    }

    /// `POST /v1/checkout`: a pending purchase and the provider's checkout for it.
    pub async fn checkout(
        &self,
        buyer: UserId,
        body: &Map<String, Value>,
    ) -> Result<CheckoutStarted, CommerceError> {
        let mut errors = FieldErrors::default();
        for name in body.keys() {
            if !matches!(name.as_str(), "skill_slug" | "success_url" | "cancel_url") {
                errors.push(FieldError::body(
                    name,
                    "extra_forbidden",
                    "Extra inputs are not permitted",
                ));
            }
        }
        let slug = errors.check(
            body_text("skill_slug", body.get("skill_slug").unwrap_or(&Value::Null)).and_then(|s| {
                s.filter(|s| !s.is_empty())
                    .ok_or_else(|| FieldError::body("skill_slug", "missing", "Field required"))
            }),
        );
        let success = errors.check(redirect_field(&self.site, body, "success_url")).flatten();
        let cancel = errors.check(redirect_field(&self.site, body, "cancel_url")).flatten();
        let slug = errors.finish(|| slug.unwrap_or_default())?;
        self.start_checkout(buyer, slug, success, cancel).await
    }

    /// Starts a checkout of `slug` for `buyer` (the API and the listing page's Buy).
    pub async fn start_checkout(
        &self,
        buyer: UserId,
        slug: String,
        success_url: Option<String>,
        cancel_url: Option<String>,
    ) -> Result<CheckoutStarted, CommerceError> {
        let now = self.now();
        let site = self.site.clone();
        let plan = self
            .db
            .run(move |conn| {
                let (card, _) = catalog::listing_by_slug(conn, &slug, None)?
                    .filter(|(c, _)| c.is_live())
                    .ok_or(CommerceError::ListingNotFound)?;
                if card.price_cents == 0 {
                    return Err(CommerceError::NotForSale);
                }
                if card.owner_id == buyer {
                    return Err(CommerceError::OwnListing);
                }
                if usage::purchase_access(conn, buyer.as_str(), card.id.as_str())?.is_some() {
                    return Err(CommerceError::AlreadyPurchased);
                }
                let account = purchases::seller_account(conn, card.owner_id.as_str())?
                    .filter(|a| a.charges_enabled)
                    .ok_or(CommerceError::SellerNotReady)?;
                let open_since = now - chrono::Duration::hours(OPEN_CHECKOUT_HOURS);
                if let Some(open) =
                    purchases::open_checkout(conn, buyer.as_str(), card.id.as_str(), open_since)?
                {
                    return Ok(Err(open));
                }
                let email = users::by_id(conn, buyer.as_str())?.email;
                let money = split(card.price_cents);
                let purchase = NewPurchase {
                    id: uuid::Uuid::now_v7().to_string(),
                    buyer_id: buyer.into_string(),
                    listing_id: card.id.into_string(),
                    amount_cents: card.price_cents,
                    fee_cents: money.fee_cents,
                    currency: card.currency.clone(),
                    status: PurchaseStatus::Pending.as_str().to_owned(),
                    created_at: now,
                    updated_at: now,
                    seller_id: card.owner_id.as_str().to_owned(),
                };
                purchases::insert(conn, &purchase)?;
                let default_cancel = format!("{}/skills/{}", site.public_url, card.slug);
                let request = CheckoutRequest {
                    purchase_id: purchase.id.clone(),
                    listing_slug: card.slug,
                    title: card.title,
                    amount_cents: card.price_cents,
                    currency: card.currency,
                    fee_cents: money.fee_cents,
                    destination: account.stripe_account_id,
                    success_url: with_session_placeholder(
                        success_url.unwrap_or_else(|| site.success_url()),
                    ),
                    cancel_url: cancel_url.unwrap_or(default_cancel),
                    customer_email: email,
                };
                Ok(Ok(CheckoutPlan { purchase, request }))
            })
            .await?;
        let plan = match plan {
            Ok(plan) => plan,
            // The buyer's open checkout of this listing answers again (it is the same
            // checkout at the provider: the create call is idempotent per purchase).
            Err(open) => return self.reopen(open).await,
        };
        let purchase_id = plan.purchase.id.clone();
        let session = match self.gateway.create_checkout(plan.request).await {
            Ok(session) => session,
            Err(error) => {
                let id = purchase_id.clone();
                let failed = self.db.run(move |conn| {
                    let from = [PurchaseStatus::Pending];
                    purchases::transition(conn, &id, &from, PurchaseStatus::Failed, now)
                });
                if let Err(store) = failed.await {
                    tracing::warn!(%store, "a purchase whose checkout failed stays pending");
                }
                return Err(error.into());
            }
        };
        let (id, session_id) = (purchase_id.clone(), session.id.clone());
        self.db.run(move |conn| purchases::set_session(conn, &id, &session_id)).await?;
        Ok(CheckoutStarted {
            purchase_id,
            checkout_url: session.url,
            session_id: session.id,
            status: PurchaseStatus::Pending,
        })
    }

    /// The checkout of an open pending purchase, asked of the provider again.
    async fn reopen(&self, open: Purchase) -> Result<CheckoutStarted, CommerceError> {
        let session_id = open.stripe_session_id.clone().ok_or(CommerceError::PurchaseNotFound)?;
        let state = self.gateway.retrieve_session(&session_id).await?;
        if state.paid || state.expired {
            // Settled meanwhile: fulfil it and let the buyer start afresh if it expired.
            self.fulfil(&session_id).await?;
            return Err(if state.paid {
                CommerceError::AlreadyPurchased
            } else {
                CommerceError::PurchaseNotFound
            });
        }
        let url = state.url.ok_or(CommerceError::PurchaseNotFound)?;
        Ok(CheckoutStarted {
            purchase_id: open.id,
            checkout_url: url,
            session_id,
            status: PurchaseStatus::Pending,
        })
    }

    /// The one place access is granted: retrieves the checkout from the provider, and
    /// completes its purchase (license code included) only when it is paid; a refunded
    /// payment makes it refunded instead; an expired checkout expires a pending
    /// purchase. Idempotent. Answers the purchase's status afterwards.
    pub async fn fulfil(&self, session_id: &str) -> Result<PurchaseStatus, CommerceError> {
        let state = self.gateway.retrieve_session(session_id).await?;
        let now = self.now();
        let code = LicenseCode::from_random(rand::random());
        self.db
            .run(move |conn| write_tx(conn, |conn| settle(conn, &state, code.as_str(), now)))
            .await
    }

    /// Applies a verified webhook delivery once per event id; answers whether it was a
    /// duplicate. A delivery whose handling fails is not recorded, so the provider
    /// retries it.
    pub async fn webhook(
        &self,
        payload: &[u8],
        signature: Option<&str>,
    ) -> Result<bool, CommerceError> {
        let event = self.gateway.parse_webhook(payload, signature, self.clock.now())?;
        let id = event.id.clone();
        if self.db.run(move |conn| purchases::event_seen(conn, &id)).await? {
            return Ok(true);
        }
        let now = self.now();
        match &event.event {
            GatewayEvent::CheckoutSettled { session_id } => match self.fulfil(session_id).await {
                // A checkout this server did not open (another deployment on the same
                // Stripe account): acknowledged, so Stripe stops retrying it.
                Err(CommerceError::PurchaseNotFound) => {
                    tracing::warn!(%session_id, "webhook for an unknown checkout");
                }
                other => {
                    other?;
                }
            },
            GatewayEvent::CheckoutFailed { session_id } => {
                self.close(session_id.clone(), PurchaseStatus::Failed).await?;
            }
            GatewayEvent::CheckoutExpired { session_id } => {
                self.close(session_id.clone(), PurchaseStatus::Expired).await?;
            }
            GatewayEvent::Refunded { payment_intent, full: true } => {
                let payment_intent = payment_intent.clone();
                self.db
                    .run(move |conn| {
                        write_tx(conn, |conn| {
                            purchases::refund_payment(conn, &payment_intent, now).map(|_| ())
                        })
                    })
                    .await?;
            }
            GatewayEvent::AccountUpdated { account_id, flags } => {
                let (account_id, state) = (
                    account_id.clone(),
                    AccountState {
                        charges_enabled: flags.charges_enabled,
                        payouts_enabled: flags.payouts_enabled,
                        details_submitted: flags.details_submitted,
                    },
                );
                self.db
                    .run(move |conn| purchases::update_account(conn, &account_id, state, now))
                    .await?;
            }
            GatewayEvent::Refunded { full: false, .. } | GatewayEvent::Ignored => {}
        }
        let (id, kind) = (event.id, event.kind);
        let fresh = self.db.run(move |conn| purchases::record_event(conn, &id, &kind, now)).await?;
        Ok(!fresh)
    }

    /// Marks a pending purchase failed or expired.
    async fn close(&self, session_id: String, to: PurchaseStatus) -> Result<(), CommerceError> {
        let now = self.now();
        self.db
            .run(move |conn| {
                write_tx(conn, |conn| {
                    if let Some(p) = purchases::by_session_for_update(conn, &session_id)? {
                        purchases::transition(conn, &p.id, &[PurchaseStatus::Pending], to, now)?;
                    }
                    Ok::<_, StoreError>(())
                })
            })
            .await?;
        Ok(())
    }

    /// `GET /v1/purchases`: the caller's purchases (bought or redeemed), newest first.
    pub async fn purchases(
        &self,
        user: UserId,
        status: Option<PurchaseStatus>,
        page: PageRequest,
    ) -> Result<PurchasesPage, CommerceError> {
        let (rows, total) = self
            .db
            .run(move |conn| {
                let (rows, total) =
                    purchases::page_of(conn, user.as_str(), status, page.limit, page.offset)?;
                Ok::<_, StoreError>((items(conn, &rows)?, total))
            })
            .await?;
        let page = Page::new(rows, total, page);
        Ok(PurchasesPage {
            purchases: page.items.clone(),
            items: page.items,
            total: page.total,
            limit: page.limit,
            offset: page.offset,
        })
    }

    /// `GET /v1/purchases/{id}/status`: the caller's purchase (bought or redeemed); a
    /// pending one is fulfilled first when its checkout is paid (clients poll this).
    pub async fn status(
        &self,
        user: UserId,
        purchase_id: String,
    ) -> Result<PurchaseState, CommerceError> {
        let state = self.stored_status(user.clone(), purchase_id.clone()).await?;
        if state.status != PurchaseStatus::Pending {
            return Ok(state);
        }
        let id = purchase_id.clone();
        let session =
            self.db.run(move |c| purchases::by_id(c, &id)).await?.and_then(|p| p.stripe_session_id);
        match session {
            Some(session) => {
                self.fulfil(&session).await?;
                self.stored_status(user, purchase_id).await
            }
            None => Ok(state),
        }
    }

    async fn stored_status(
        &self,
        user: UserId,
        purchase_id: String,
    ) -> Result<PurchaseState, CommerceError> {
        self.db
            .run(move |conn| {
                let purchase =
                    purchases::by_id(conn, &purchase_id)?.ok_or(CommerceError::PurchaseNotFound)?;
                let item = items(conn, std::slice::from_ref(&purchase))?
                    .pop()
                    .ok_or(CommerceError::PurchaseNotFound)?;
                let redeemer = purchases::licenses_of(conn, &[purchase.id.as_str()])?
                    .iter()
                    .any(|l| l.redeemed_by.as_ref() == Some(&user));
                if purchase.buyer_id != user && !redeemer {
                    return Err(CommerceError::PurchaseNotFound);
                }
                Ok(state_of(&item))
            })
            .await
    }

    /// `GET /v1/purchases/confirm?session_id=`: the buyer's purchase of that checkout,
    /// fulfilled first when it is not settled yet (a paid checkout whose webhook has not
    /// arrived completes here; an unpaid one grants nothing).
    pub async fn confirm(
        &self,
        user: UserId,
        session_id: String,
    ) -> Result<PurchaseState, CommerceError> {
        let purchase = self.purchase_of_session(&session_id).await?;
        if purchase.buyer_id != user {
            return Err(CommerceError::PurchaseNotFound);
        }
        if purchase.status != PurchaseStatus::Completed
            && purchase.status != PurchaseStatus::Refunded
        {
            self.fulfil(&session_id).await?;
        }
        self.status(user, purchase.id).await
    }

    async fn purchase_of_session(&self, session_id: &str) -> Result<Purchase, CommerceError> {
        let session_id = session_id.to_owned();
        self.db
            .run(move |conn| purchases::by_session(conn, &session_id))
            .await?
            .ok_or(CommerceError::PurchaseNotFound)
    }

    /// `GET /v1/purchases/download?session_id=` (the session id is the capability): the
    /// buyer's download link once paid; `Err(status)` while it is not.
    pub async fn download(
        &self,
        session_id: String,
    ) -> Result<Result<PurchaseDownload, PurchaseStatus>, CommerceError> {
        let mut purchase = self.purchase_of_session(&session_id).await?;
        if purchase.status == PurchaseStatus::Pending {
            purchase.status = self.fulfil(&session_id).await?;
        }
        if purchase.status != PurchaseStatus::Completed {
            return Ok(Err(purchase.status));
        }
        let listing_id = purchase.listing_id.clone();
        let slug = self
            .db
            .run(move |conn| catalog::slug_by_id(conn, listing_id.as_str()))
            .await?
            .ok_or(CommerceError::ListingNotFound)?;
        let buyer = Visitor::user(purchase.buyer_id.as_str());
        let link =
            self.downloads.link(slug.clone(), None, None, Some(purchase.buyer_id), &buyer).await?;
        Ok(Ok(PurchaseDownload {
            download_url: link.url.clone(),
            url: link.url,
            slug,
            license_code: link.license_code,
        }))
    }

    /// The checkout of `session_id` as its pages show it; with `settle`, fulfilled first
    /// when it is still pending (the success page: the checkout session id is the
    /// capability, as for the purchase download).
    pub async fn checkout_view(
        &self,
        session_id: &str,
        settle: bool,
    ) -> Result<CheckoutView, CommerceError> {
        let purchase = self.purchase_of_session(session_id).await?;
        if settle && purchase.status == PurchaseStatus::Pending {
            self.fulfil(session_id).await?;
        }
        let id = purchase.id;
        self.db
            .run(move |conn| {
                let purchase =
                    purchases::by_id(conn, &id)?.ok_or(CommerceError::PurchaseNotFound)?;
                let item = items(conn, std::slice::from_ref(&purchase))?
                    .pop()
                    .ok_or(CommerceError::ListingNotFound)?;
                Ok(CheckoutView {
                    title: item.title,
                    slug: item.slug,
                    amount_cents: item.amount_cents,
                    currency: item.currency,
                    status: item.status,
                    license_code: item.license_code,
                })
            })
            .await
    }

    /// `POST /v1/purchases/redeem`: links a paid purchase to the caller through its code
    /// (each code can be claimed by one account besides the buyer).
    pub async fn redeem(
        &self,
        user: UserId,
        body: &Map<String, Value>,
    ) -> Result<Redeemed, CommerceError> {
        let raw = body_text("license_code", body.get("license_code").unwrap_or(&Value::Null))?
            .unwrap_or_default();
        let code = LicenseCode::parse(&raw).ok_or_else(|| {
            FieldError::body(
                "license_code",
                "string_pattern_mismatch",
                "A license code looks like ABCD1234-ABCD1234-ABCD1234",
            )
        })?;
        let now = self.now();
        self.db
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let license = purchases::license(conn, code.as_str())?
                        .ok_or(CommerceError::CodeNotFound)?;
                    let purchase = purchases::by_id(conn, &license.purchase_id)?
                        .ok_or(CommerceError::CodeNotFound)?;
                    if purchase.status == PurchaseStatus::Refunded {
                        return Err(CommerceError::Refunded);
                    }
                    if purchase.status != PurchaseStatus::Completed {
                        return Err(CommerceError::CodeNotFound);
                    }
                    let mine =
                        purchase.buyer_id == user || license.redeemed_by.as_ref() == Some(&user);
                    if !mine && !purchases::redeem(conn, &license.code, user.as_str(), now)? {
                        return Err(CommerceError::AlreadyRedeemed);
                    }
                    let slug = catalog::slug_by_id(conn, purchase.listing_id.as_str())?
                        .ok_or(CommerceError::ListingNotFound)?;
                    Ok(Redeemed {
                        skill_slug: slug,
                        purchase_id: purchase.id,
                        message: "License code redeemed; you can install this listing now."
                            .to_owned(),
                    })
                })
            })
            .await
    }
}

/// Settles a purchase from the provider's view of its checkout (inside a transaction).
fn settle(
    conn: &mut ap_store::Conn,
    state: &SessionState,
    code: &str,
    now: NaiveDateTime,
) -> Result<PurchaseStatus, CommerceError> {
    if let Some(payment) = &state.payment_intent {
        purchases::lock_payment(conn, payment)?;
    }
    let purchase = purchases::by_session_for_update(conn, &state.id)?
        .ok_or(CommerceError::PurchaseNotFound)?;
    let refunded = match &state.payment_intent {
        Some(payment) => purchases::was_refunded(conn, payment)?,
        None => false,
    };
    if state.paid && refunded {
        // Booked as taken and refunded, though access never starts.
        purchases::refund(conn, &purchase.id, now)?;
        return Ok(PurchaseStatus::Refunded);
    }
    if state.paid
        && purchase.status != PurchaseStatus::Completed
        && usage::purchase_access(conn, purchase.buyer_id.as_str(), purchase.listing_id.as_str())?
            .is_some()
    {
        // A second checkout of something the buyer owns was paid too (two tabs): the
        // purchase cannot complete twice; it is marked failed, for a refund by hand.
        tracing::error!(purchase = %purchase.id, "a second paid checkout of an owned listing");
        let from = [PurchaseStatus::Pending, PurchaseStatus::Expired];
        purchases::transition(conn, &purchase.id, &from, PurchaseStatus::Failed, now)?;
        return Ok(PurchaseStatus::Failed);
    }
    if state.paid {
        purchases::complete(conn, &purchase.id, state.payment_intent.as_deref(), code, now)?;
    } else if state.expired {
        purchases::transition(
            conn,
            &purchase.id,
            &[PurchaseStatus::Pending],
            PurchaseStatus::Expired,
            now,
        )?;
    }
    Ok(purchases::by_id(conn, &purchase.id)?.map_or(purchase.status, |p| p.status))
}

/// The wire items of these purchases (listing, author and license code read in a few
/// queries, not one per purchase).
fn items(conn: &mut ap_store::Conn, rows: &[Purchase]) -> Result<Vec<PurchaseItem>, StoreError> {
    let listing_ids: Vec<&str> = rows.iter().map(|p| p.listing_id.as_str()).collect();
    let cards = catalog::cards_with_authors(conn, &listing_ids)?;
    let ids: Vec<&str> = rows.iter().map(|p| p.id.as_str()).collect();
    let licenses = purchases::licenses_of(conn, &ids)?;
    let withdrawn = moderation::withdrawn_versions(conn, &listing_ids)?;
    Ok(rows
        .iter()
        .filter_map(|p| {
            let (card, author) = cards.iter().find(|(c, _)| c.id == p.listing_id)?;
            let code = licenses.iter().find(|l| l.purchase_id == p.id).map(|l| l.code.clone());
            let versions: Vec<String> = withdrawn
                .iter()
                .filter(|(listing, _)| *listing == p.listing_id.as_str())
                .map(|(_, version)| version.clone())
                .collect();
            let notice = withdrawal_notice(&card.slug, card.quarantined_at.is_some(), &versions);
            Some(PurchaseItem {
                purchase_id: p.id.clone(),
                skill_slug: card.slug.clone(),
                skill_title: card.title.clone(),
                slug: card.slug.clone(),
                title: card.title.clone(),
                amount_cents: p.amount_cents,
                currency: p.currency.clone(),
                status: p.status,
                purchased_at: utc(p.completed_at.unwrap_or(p.created_at)),
                license_code: code,
                author_display_name: author.display_name.clone().unwrap_or_default(),
                author_display_name_slug: author.display_name_slug.clone().unwrap_or_default(),
                withdrawn_versions: versions,
                notice,
            })
        })
        .collect())
}

/// What a buyer is told when the marketplace withdrew the listing or some of its
/// versions after a security review.
fn withdrawal_notice(slug: &str, listing: bool, versions: &[String]) -> Option<String> {
    if listing {
        return Some(format!(
            "The marketplace withdrew this listing after a security review. Stop using it \
             and remove it: ap uninstall {slug}"
        ));
    }
    if versions.is_empty() {
        return None;
    }
    Some(format!(
        "The marketplace withdrew version {} of this listing after a security review. Do not \
         use it; ap update {slug} installs the version that is served now.",
        versions.join(", ")
    ))
}

fn state_of(item: &PurchaseItem) -> PurchaseState {
    PurchaseState {
        purchase_id: item.purchase_id.clone(),
        skill_slug: item.skill_slug.clone(),
        status: item.status,
        license_code: item.license_code.clone(),
        purchased_at: item.purchased_at,
    }
}
