//! What the marketplace needs from a payment provider, as a trait: `ap-payments`
//! implements it for Stripe and for a local sandbox, and the binary wires one of them.
//! Nothing here knows Stripe's wire format.

use std::future::Future;
use std::pin::Pin;

use ap_domain::{Code, ErrorCode};
use chrono::{DateTime, Utc};

/// The future a gateway call answers.
pub type GatewayFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, GatewayError>> + Send + 'a>>;

/// A checkout to open: a destination charge of `amount_cents` to the seller's connected
/// account, of which `fee_cents` stays with the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutRequest {
    /// Our purchase (also the idempotency key of the create call, and in the metadata).
    pub purchase_id: String,
    /// The listing's slug (metadata).
    pub listing_slug: String,
    /// What the buyer sees.
    pub title: String,
    /// The price.
    pub amount_cents: i64,
    /// `usd`.
    pub currency: String,
    /// The platform fee (`application_fee_amount`).
    pub fee_cents: i64,
    /// The seller's connected account (`transfer_data.destination`).
    pub destination: String,
    /// Where the buyer lands after paying (`{CHECKOUT_SESSION_ID}` is replaced).
    pub success_url: String,
    /// Where the buyer lands after cancelling.
    pub cancel_url: String,
    /// The buyer's e-mail, when known.
    pub customer_email: Option<String>,
}

/// An opened checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutSession {
    /// The provider's session id (`cs_…`).
    pub id: String,
    /// The page where the buyer pays.
    pub url: String,
}

/// A checkout as the provider reports it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionState {
    /// The session id.
    pub id: String,
    /// Paid in full (`payment_status = paid`): the only state that grants access.
    pub paid: bool,
    /// Expired unpaid.
    pub expired: bool,
    /// The payment, once there is one.
    pub payment_intent: Option<String>,
    /// The page where the buyer pays, while the checkout is open.
    pub url: Option<String>,
}

/// A connected account to create for a seller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRequest {
    /// The seller (in the metadata, and the idempotency key: one account per seller even
    /// under concurrent requests).
    pub user_id: String,
    /// The seller's e-mail, when known.
    pub email: Option<String>,
}

/// A link where a seller completes onboarding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnboardingLink {
    /// The page.
    pub url: String,
    /// When the link stops working (a new one is made on the refresh URL).
    pub expires_at: DateTime<Utc>,
}

/// The state of a seller's connected account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountFlags {
    /// Can take charges.
    pub charges_enabled: bool,
    /// Can receive payouts.
    pub payouts_enabled: bool,
    /// Finished the onboarding form.
    pub details_submitted: bool,
}

/// A payout on its way to a seller's bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduledPayout {
    /// When it arrives.
    pub arrives_on: chrono::NaiveDate,
    /// How much.
    pub amount_cents: i64,
}

/// What a connected account holds, as the provider reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountBalance {
    /// Not yet available for payout.
    pub pending_cents: i64,
    /// Available for payout.
    pub available_cents: i64,
    /// The next payout, if one is scheduled.
    pub next_payout: Option<ScheduledPayout>,
}

/// What a verified webhook delivery says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayEvent {
    /// A checkout completed or its delayed payment succeeded: fulfil it (the session is
    /// retrieved again; only a paid one grants access).
    CheckoutSettled {
        /// The session.
        session_id: String,
    },
    /// A delayed payment failed.
    CheckoutFailed {
        /// The session.
        session_id: String,
    },
    /// A checkout expired unpaid.
    CheckoutExpired {
        /// The session.
        session_id: String,
    },
    /// A charge was refunded (`full`: nothing of it is left).
    Refunded {
        /// The payment the charge belongs to.
        payment_intent: String,
        /// Refunded in full.
        full: bool,
    },
    /// A connected account changed.
    AccountUpdated {
        /// The account.
        account_id: String,
        /// Its flags now.
        flags: AccountFlags,
    },
    /// An event this server does not act on.
    Ignored,
}

/// A verified webhook delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    /// The event id (deliveries are deduplicated by it).
    pub id: String,
    /// The event type, as the provider names it.
    pub kind: String,
    /// What it means here.
    pub event: GatewayEvent,
}

/// Why a payment provider call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// The payment method was declined.
    #[error("payment declined: {0}")]
    Declined(String),
    /// The provider is unreachable, failing or rate limiting us; worth retrying.
    #[error("payment provider unavailable: {0}")]
    Unavailable(String),
    /// The provider refused our request (a bug or a configuration problem here).
    #[error("payment provider refused the request: {0}")]
    Rejected(String),
    /// No such session or account at the provider.
    #[error("unknown at the payment provider: {0}")]
    Unknown(String),
    /// A webhook whose signature does not verify, is stale, or cannot be checked.
    #[error("webhook signature invalid: {0}")]
    Signature(String),
}

impl ErrorCode for GatewayError {
    fn code(&self) -> Code {
        match self {
            GatewayError::Declined(_) => Code::PaymentDeclined,
            GatewayError::Unavailable(_) => Code::PaymentProviderUnavailable,
            GatewayError::Rejected(_) => Code::PaymentProviderError,
            GatewayError::Unknown(_) => Code::NotFound,
            GatewayError::Signature(_) => Code::WebhookSignatureInvalid,
        }
    }

    fn public_message(&self) -> String {
        match self {
            GatewayError::Declined(_) => "The payment was declined".to_owned(),
            GatewayError::Unknown(_) => "Not found".to_owned(),
            GatewayError::Signature(_) => "The webhook signature is not valid".to_owned(),
            other => other.to_string(),
        }
    }
}

/// The local sandbox's controls: the buttons of its checkout and onboarding pages.
pub trait Sandbox: Send + Sync {
    /// Completes an account's onboarding (charges and payouts enabled); answers its
    /// return URL, or `None` for an unknown account.
    fn complete_onboarding(&self, account_id: &str) -> Option<String>;

    /// Marks the session paid; answers its success URL (with the session id), or `None`
    /// for an unknown session.
    fn pay(&self, session_id: &str) -> Option<String>;
    /// Answers the session's cancel URL, or `None` for an unknown session.
    fn cancel(&self, session_id: &str) -> Option<String>;
}

/// A payment provider.
pub trait PaymentGateway: Send + Sync + std::fmt::Debug {
    /// Opens a checkout (idempotent per purchase).
    fn create_checkout(&self, request: CheckoutRequest) -> GatewayFuture<'_, CheckoutSession>;

    /// The current state of a checkout.
    fn retrieve_session<'a>(&'a self, session_id: &'a str) -> GatewayFuture<'a, SessionState>;

    /// Creates a seller's connected account (Express); answers its id.
    fn create_account(&self, request: AccountRequest) -> GatewayFuture<'_, String>;

    /// A fresh onboarding link for an account.
    fn onboarding_link<'a>(
        &'a self,
        account_id: &'a str,
        return_url: &'a str,
        refresh_url: &'a str,
    ) -> GatewayFuture<'a, OnboardingLink>;

    /// An account's state as the provider reports it now.
    fn account_flags<'a>(&'a self, account_id: &'a str) -> GatewayFuture<'a, AccountFlags>;

    /// An account's balance and next payout; `None` when the provider keeps no balance
    /// (the sandbox, whose figures follow the documented payout rule).
    fn balance<'a>(&'a self, account_id: &'a str) -> GatewayFuture<'a, Option<AccountBalance>>;

    /// Refunds a payment in full, reversing the transfer to the seller and refunding the
    /// platform fee with it (idempotent per `idempotency_key`). A payment already
    /// refunded in full answers `Ok`.
    fn refund<'a>(
        &'a self,
        payment_intent: &'a str,
        idempotency_key: &'a str,
    ) -> GatewayFuture<'a, ()>;

    /// Pauses (`paused`) or resumes a connected account's automatic payouts; its balance
    /// stays on the account while they are paused.
    fn set_payouts_paused<'a>(&'a self, account_id: &'a str, paused: bool)
    -> GatewayFuture<'a, ()>;

    /// Verifies a webhook delivery's signature over the raw body (`now` decides
    /// staleness) and reads the event.
    fn parse_webhook(
        &self,
        payload: &[u8],
        signature: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<WebhookEvent, GatewayError>;

    /// The sandbox's controls, when this is the sandbox.
    fn sandbox(&self) -> Option<&dyn Sandbox> {
        None
    }
}
