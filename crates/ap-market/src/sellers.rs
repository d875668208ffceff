//! Sellers: onboarding to the payment provider (a connected account, created once, and
//! onboarding links) and the stored state of that account.
//!
//! `status` has no side effects beyond refreshing the stored copy of the provider's
//! state: while the stored state is incomplete it asks the provider again, so a seller
//! who finished onboarding sees it even if the `account.updated` webhook is late.

use std::sync::Arc;

use ap_domain::clock::Clock;
use ap_domain::wire::{OnboardingStarted, SellerStatus};
use ap_domain::{Code, ErrorCode, FieldErrors, UserId};
use ap_store::purchases::{self, AccountState, SellerAccount};
use ap_store::{Db, StoreError, UnitError, publish, users};
use serde_json::{Map, Value};

use crate::commerce::{Site, redirect_field};
use crate::payments::{AccountFlags, AccountRequest, GatewayError, PaymentGateway};

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
