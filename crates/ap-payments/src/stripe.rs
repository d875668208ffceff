//! The Stripe gateway, on the `async-stripe` client (API version pinned by the crate's
//! exact version). Checkouts are destination charges to the seller's connected account
//! with the platform fee as `application_fee_amount`; every create call carries an
//! idempotency key (the purchase id), so a retried request never opens a second
//! checkout. A refund reverses the seller's transfer and refunds the platform fee with
//! it; suspending a seller switches their account's payouts to `manual`. Stripe's error
//! bodies are mapped to the marketplace's codes.

use std::collections::HashMap;
use std::time::Duration;

use ap_market::payments::{
    AccountBalance, AccountFlags, AccountRequest, CheckoutRequest, CheckoutSession, GatewayError,
    GatewayFuture, OnboardingLink, PaymentGateway, ScheduledPayout, SessionState, WebhookEvent,
};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use stripe::{IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionLineItemsPriceData,
    CreateCheckoutSessionPaymentIntentData, CreateCheckoutSessionPaymentIntentDataTransferData,
    ProductData, RetrieveCheckoutSession,
};
use stripe_connect::account::{
    CreateAccount, CreateAccountType, RetrieveAccount, UpdateAccount, UpdateAccountSettings,
    UpdateAccountSettingsPayouts, UpdateAccountSettingsPayoutsSchedule,
    UpdateAccountSettingsPayoutsScheduleInterval,
};
use stripe_connect::account_link::{CreateAccountLink, CreateAccountLinkType};
use stripe_core::balance::RetrieveForMyAccountBalance;
use stripe_core::payout::ListPayout;
use stripe_core::refund::CreateRefund;
use stripe_shared::{
    ApiErrorsCode, ApiErrorsType, CheckoutSessionMode, CheckoutSessionPaymentStatus,
    CheckoutSessionStatus,
};

use crate::{events, signature};

/// How to reach Stripe.
#[derive(Debug, Clone)]
pub struct StripeSettings {
    /// The secret API key (`sk_…`).
    pub secret_key: SecretString,
    /// The webhook endpoint's signing secret (`whsec_…`); without it every delivery is
    /// refused.
    pub webhook_secret: Option<SecretString>,
    /// The API base, `https://api.stripe.com/` unless pointed elsewhere (tests point it
    /// at a local fake).
    pub api_base: Option<String>,
    /// Per-attempt timeout of a call.
    pub timeout: Duration,
}

/// The Stripe gateway.
pub struct StripeGateway {
    client: stripe::Client,
    webhook_secret: Option<SecretString>,
}

impl std::fmt::Debug for StripeGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeGateway").finish_non_exhaustive()
    }
}

impl StripeGateway {
    /// A client for `settings`.
    pub fn new(settings: StripeSettings) -> Result<Self, GatewayError> {
        let mut builder = stripe::ClientBuilder::new(settings.secret_key.expose_secret())
            .timeout(settings.timeout)
            .app_info("agentpowers-server", Some(env!("CARGO_PKG_VERSION").to_owned()), None);
        if let Some(base) = settings.api_base {
            let base = if base.ends_with('/') { base } else { format!("{base}/") };
            builder = builder.url(base);
        }
        let client = builder.build().map_err(|e| GatewayError::Rejected(e.to_string()))?;
        Ok(Self { client, webhook_secret: settings.webhook_secret })
    }
}

/// Maps a failed call: declines, throttling and outages, and our own bad requests.
fn mapped(error: StripeError) -> GatewayError {
    match error {
        StripeError::Stripe(body, status) => {
            let message = body.message.clone().unwrap_or_else(|| body.type_.as_str().to_owned());
            match (&body.type_, status) {
                (ApiErrorsType::CardError, _) => GatewayError::Declined(message),
                (_, 429) | (_, 500..) => GatewayError::Unavailable(format!("{status}: {message}")),
                (ApiErrorsType::InvalidRequestError, 404) => GatewayError::Unknown(message),
                (ApiErrorsType::ApiError, _) => GatewayError::Unavailable(message),
                _ => GatewayError::Rejected(format!("{status} {}: {message}", body.type_.as_str())),
            }
        }
        StripeError::ClientError(message) => GatewayError::Unavailable(message),
        StripeError::Timeout => GatewayError::Unavailable("timed out".to_owned()),
        StripeError::JSONDeserialize(message) => {
            GatewayError::Unavailable(format!("unreadable answer: {message}"))
        }
        StripeError::ConfigError(message) => GatewayError::Rejected(message),
    }
}

fn checkout(request: &CheckoutRequest) -> CreateCheckoutSession {
    let mut product = ProductData::new(request.title.clone());
    product.metadata = Some(HashMap::from([("listing".to_owned(), request.listing_slug.clone())]));
    let mut price = CreateCheckoutSessionLineItemsPriceData::new(
        request.currency.parse::<stripe_types::Currency>().unwrap_or(stripe_types::Currency::USD),
    );
    price.unit_amount = Some(request.amount_cents);
    price.product_data = Some(product);
    let mut item = CreateCheckoutSessionLineItems::new();
    item.price_data = Some(price);
    item.quantity = Some(1);
    let metadata = HashMap::from([
        ("purchase_id".to_owned(), request.purchase_id.clone()),
        ("listing".to_owned(), request.listing_slug.clone()),
    ]);
    let mut payment = CreateCheckoutSessionPaymentIntentData::new();
    payment.application_fee_amount = Some(request.fee_cents);
    payment.transfer_data =
        Some(CreateCheckoutSessionPaymentIntentDataTransferData::new(request.destination.clone()));
    payment.metadata = Some(metadata.clone());
    let mut create = CreateCheckoutSession::new()
        .mode(CheckoutSessionMode::Payment)
        .line_items(vec![item])
        .payment_intent_data(payment)
        .client_reference_id(request.purchase_id.clone())
        .metadata(metadata)
        .success_url(request.success_url.clone())
        .cancel_url(request.cancel_url.clone());
    if let Some(email) = &request.customer_email {
        create = create.customer_email(email.clone());
    }
    create
}

impl PaymentGateway for StripeGateway {
    fn create_checkout(&self, request: CheckoutRequest) -> GatewayFuture<'_, CheckoutSession> {
        Box::pin(async move {
            let key = IdempotencyKey::new(format!("checkout-{}", request.purchase_id))
                .map_err(|e| GatewayError::Rejected(e.to_string()))?;
            let session = checkout(&request)
                .customize()
                .request_strategy(RequestStrategy::Idempotent(key))
                .send(&self.client)
                .await
                .map_err(mapped)?;
            let url = session
                .url
                .ok_or_else(|| GatewayError::Rejected("checkout session without a url".into()))?;
            Ok(CheckoutSession { id: session.id.to_string(), url })
        })
    }

    fn retrieve_session<'a>(&'a self, session_id: &'a str) -> GatewayFuture<'a, SessionState> {
        Box::pin(async move {
            let session = RetrieveCheckoutSession::new(session_id)
                .send(&self.client)
                .await
                .map_err(mapped)?;
            Ok(SessionState {
                id: session.id.to_string(),
                paid: session.payment_status == CheckoutSessionPaymentStatus::Paid,
                expired: session.status == Some(CheckoutSessionStatus::Expired),
                payment_intent: session.payment_intent.map(|p| p.id().to_string()),
                url: session.url,
            })
        })
    }

    fn create_account(&self, request: AccountRequest) -> GatewayFuture<'_, String> {
        Box::pin(async move {
            let key = IdempotencyKey::new(format!("account-{}", request.user_id))
                .map_err(|e| GatewayError::Rejected(e.to_string()))?;
            let mut create = CreateAccount::new()
                .type_(CreateAccountType::Express)
                .metadata(HashMap::from([("user_id".to_owned(), request.user_id.clone())]));
            if let Some(email) = request.email {
                create = create.email(email);
            }
            let account = create
                .customize()
                .request_strategy(RequestStrategy::Idempotent(key))
                .send(&self.client)
                .await
                .map_err(mapped)?;
            Ok(account.id.to_string())
        })
    }

    fn onboarding_link<'a>(
        &'a self,
        account_id: &'a str,
        return_url: &'a str,
        refresh_url: &'a str,
    ) -> GatewayFuture<'a, OnboardingLink> {
        Box::pin(async move {
            // A fresh link every time, and a key that makes a retried call return it.
            let key = IdempotencyKey::new(format!("account-link-{}", uuid::Uuid::new_v4()))
                .map_err(|e| GatewayError::Rejected(e.to_string()))?;
            let link = CreateAccountLink::new(account_id, CreateAccountLinkType::AccountOnboarding)
                .return_url(return_url)
                .refresh_url(refresh_url)
                .customize()
                .request_strategy(RequestStrategy::Idempotent(key))
                .send(&self.client)
                .await
                .map_err(mapped)?;
            let expires_at = DateTime::from_timestamp(link.expires_at, 0)
                .ok_or_else(|| GatewayError::Rejected("account link expiry out of range".into()))?;
            Ok(OnboardingLink { url: link.url, expires_at })
        })
    }

    fn account_flags<'a>(&'a self, account_id: &'a str) -> GatewayFuture<'a, AccountFlags> {
        Box::pin(async move {
            let account =
                RetrieveAccount::new(account_id).send(&self.client).await.map_err(mapped)?;
            Ok(AccountFlags {
                charges_enabled: account.charges_enabled.unwrap_or(false),
                payouts_enabled: account.payouts_enabled.unwrap_or(false),
                details_submitted: account.details_submitted.unwrap_or(false),
            })
        })
    }

    fn balance<'a>(&'a self, account_id: &'a str) -> GatewayFuture<'a, Option<AccountBalance>> {
        Box::pin(async move {
            let account: stripe::AccountId = account_id.into();
            let balance = RetrieveForMyAccountBalance::new()
                .customize()
                .account_id(account.clone())
                .send(&self.client)
                .await
                .map_err(mapped)?;
            let usd = |amounts: &[stripe_core::BalanceAmount]| -> i64 {
                amounts
                    .iter()
                    .filter(|a| a.currency == stripe_types::Currency::USD)
                    .map(|a| a.amount)
                    .sum()
            };
            let payouts = ListPayout::new()
                .status("pending")
                .limit(10)
                .customize()
                .account_id(account)
                .send(&self.client)
                .await
                .map_err(mapped)?;
            let next_payout = payouts
                .data
                .iter()
                .filter_map(|p| {
                    let arrives_on = DateTime::from_timestamp(p.arrival_date, 0)?.date_naive();
                    Some(ScheduledPayout { arrives_on, amount_cents: p.amount })
                })
                .min_by_key(|p| p.arrives_on);
            Ok(Some(AccountBalance {
                pending_cents: usd(&balance.pending),
                available_cents: usd(&balance.available),
                next_payout,
            }))
        })
    }

    fn refund<'a>(
        &'a self,
        payment_intent: &'a str,
        idempotency_key: &'a str,
    ) -> GatewayFuture<'a, ()> {
        Box::pin(async move {
            let key = IdempotencyKey::new(idempotency_key)
                .map_err(|e| GatewayError::Rejected(e.to_string()))?;
            let refunded = CreateRefund::new()
                .payment_intent(payment_intent)
                .reverse_transfer(true)
                .refund_application_fee(true)
                .customize()
                .request_strategy(RequestStrategy::Idempotent(key))
                .send(&self.client)
                .await;
            match refunded {
                Ok(_) => Ok(()),
                // Refunded before (by another key, or in the Dashboard): nothing is left.
                Err(StripeError::Stripe(body, _))
                    if body.code == Some(ApiErrorsCode::ChargeAlreadyRefunded) =>
                {
                    Ok(())
                }
                Err(error) => Err(mapped(error)),
            }
        })
    }

    fn set_payouts_paused<'a>(
        &'a self,
        account_id: &'a str,
        paused: bool,
    ) -> GatewayFuture<'a, ()> {
        Box::pin(async move {
            let mut schedule = UpdateAccountSettingsPayoutsSchedule::new();
            schedule.interval = Some(if paused {
                UpdateAccountSettingsPayoutsScheduleInterval::Manual
            } else {
                UpdateAccountSettingsPayoutsScheduleInterval::Daily
            });
            let mut payouts = UpdateAccountSettingsPayouts::new();
            payouts.schedule = Some(schedule);
            let mut settings = UpdateAccountSettings::new();
            settings.payouts = Some(payouts);
            UpdateAccount::new(account_id)
                .settings(settings)
                .send(&self.client)
                .await
                .map_err(mapped)?;
            Ok(())
        })
    }

    fn parse_webhook(
        &self,
        payload: &[u8],
        signature_header: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<WebhookEvent, GatewayError> {
        let secret = self
            .webhook_secret
            .as_ref()
            .ok_or_else(|| GatewayError::Signature("no webhook secret is configured".to_owned()))?;
        signature::verify(signature_header, payload, secret.expose_secret(), now)
            .map_err(|e| GatewayError::Signature(e.to_string()))?;
        events::parse(payload)
    }
}
