//! The sandbox gateway: payments without a Stripe account, for `make run` and for
//! trying the whole journey on one machine.
//!
//! A checkout's page is on this server (`/sandbox/checkout/{session}`), showing the item
//! and price with **Pay** and **Cancel**. Pay marks the session paid here; the page then
//! runs the same fulfilment a Stripe webhook triggers (which retrieves the session from
//! this gateway and finds it paid). Webhooks are refused: there is no secret to check
//! them with. Sessions live in this process: a restart forgets unpaid ones (their
//! purchases stay pending and the item can be bought again). A refund always succeeds
//! (the marketplace records it itself; no money moved), and pausing an account's payouts
//! only marks it: the sandbox pays nothing out.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use ap_market::commerce::SESSION_PLACEHOLDER;
use ap_market::payments::{
    AccountBalance, AccountFlags, AccountRequest, CheckoutRequest, CheckoutSession, GatewayError,
    GatewayFuture, OnboardingLink, PaymentGateway, Sandbox, SessionState, WebhookEvent,
};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone)]
struct Session {
    request: CheckoutRequest,
    paid: bool,
}

#[derive(Debug, Clone)]
struct Account {
    user_id: String,
    complete: bool,
    return_url: Option<String>,
    payouts_paused: bool,
}

/// The sandbox gateway.
#[derive(Debug)]
pub struct SandboxGateway {
    public_url: String,
    sessions: Mutex<HashMap<String, Session>>,
    accounts: Mutex<HashMap<String, Account>>,
    refunded: Mutex<HashSet<String>>,
}

impl SandboxGateway {
    /// A sandbox whose checkout pages are on `public_url`.
    pub fn new(public_url: impl Into<String>) -> Self {
        Self {
            public_url: public_url.into(),
            sessions: Mutex::new(HashMap::new()),
            accounts: Mutex::new(HashMap::new()),
            refunded: Mutex::new(HashSet::new()),
        }
    }

    /// Whether a payment was refunded (in this process).
    pub fn refunded(&self, payment_intent: &str) -> bool {
        self.refunds().contains(payment_intent)
    }

    /// Whether an account's payouts are paused, or `None` for an unknown account.
    pub fn payouts_paused(&self, account_id: &str) -> Option<bool> {
        self.accounts().get(account_id).map(|a| a.payouts_paused)
    }

    fn sessions(&self) -> MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn accounts(&self) -> MutexGuard<'_, HashMap<String, Account>> {
        self.accounts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn refunds(&self) -> MutexGuard<'_, HashSet<String>> {
        self.refunded.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl PaymentGateway for SandboxGateway {
    fn create_checkout(&self, request: CheckoutRequest) -> GatewayFuture<'_, CheckoutSession> {
        let id = format!("cs_sandbox_{}", uuid::Uuid::new_v4().simple());
        let url = format!("{}/sandbox/checkout/{id}", self.public_url);
        self.sessions().insert(id.clone(), Session { request, paid: false });
        Box::pin(async move { Ok(CheckoutSession { id, url }) })
    }

    fn retrieve_session<'a>(&'a self, session_id: &'a str) -> GatewayFuture<'a, SessionState> {
        let url = format!("{}/sandbox/checkout/{session_id}", self.public_url);
        let found = self.sessions().get(session_id).map(|s| SessionState {
            id: session_id.to_owned(),
            paid: s.paid,
            expired: false,
            payment_intent: s.paid.then(|| format!("pi_{}", session_id.trim_start_matches("cs_"))),
            url: (!s.paid).then_some(url),
        });
        Box::pin(async move {
            found.ok_or_else(|| GatewayError::Unknown(format!("sandbox session {session_id}")))
        })
    }

    fn create_account(&self, request: AccountRequest) -> GatewayFuture<'_, String> {
        let mut accounts = self.accounts();
        // One account per seller, as Stripe's idempotency key makes it.
        let existing = accounts.iter().find(|(_, a)| a.user_id == request.user_id);
        let id = match existing {
            Some((id, _)) => id.clone(),
            None => {
                let id = format!("acct_sandbox_{}", uuid::Uuid::new_v4().simple());
                let account = Account {
                    user_id: request.user_id,
                    complete: false,
                    return_url: None,
                    payouts_paused: false,
                };
                accounts.insert(id.clone(), account);
                id
            }
        };
        Box::pin(async move { Ok(id) })
    }

    fn onboarding_link<'a>(
        &'a self,
        account_id: &'a str,
        return_url: &'a str,
        _refresh_url: &'a str,
    ) -> GatewayFuture<'a, OnboardingLink> {
        // An account this process does not know (made before a restart) is taken over.
        self.accounts()
            .entry(account_id.to_owned())
            .or_insert_with(|| Account {
                user_id: String::new(),
                complete: false,
                return_url: None,
                payouts_paused: false,
            })
            .return_url = Some(return_url.to_owned());
        let url = format!("{}/sandbox/onboarding/{account_id}", self.public_url);
        Box::pin(async move {
            Ok(OnboardingLink { url, expires_at: Utc::now() + chrono::Duration::hours(1) })
        })
    }

    fn account_flags<'a>(&'a self, account_id: &'a str) -> GatewayFuture<'a, AccountFlags> {
        let found = self.accounts().get(account_id).map(|a| AccountFlags {
            charges_enabled: a.complete,
            payouts_enabled: a.complete,
            details_submitted: a.complete,
        });
        Box::pin(async move {
            found.ok_or_else(|| GatewayError::Unknown(format!("sandbox account {account_id}")))
        })
    }

    fn balance<'a>(&'a self, _account_id: &'a str) -> GatewayFuture<'a, Option<AccountBalance>> {
        Box::pin(async move { Ok(None) })
    }

    fn refund<'a>(
        &'a self,
        payment_intent: &'a str,
        _idempotency_key: &'a str,
    ) -> GatewayFuture<'a, ()> {
        // Also a payment this process does not know (paid before a restart): nothing moved.
        self.refunds().insert(payment_intent.to_owned());
        Box::pin(async move { Ok(()) })
    }

    fn set_payouts_paused<'a>(
        &'a self,
        account_id: &'a str,
        paused: bool,
    ) -> GatewayFuture<'a, ()> {
        // An account from before a restart is forgotten (as `onboarding_link` re-creates
        // it): the sandbox pays nothing out, so there is nothing to pause.
        if let Some(account) = self.accounts().get_mut(account_id) {
            account.payouts_paused = paused;
        }
        Box::pin(async move { Ok(()) })
    }

    fn parse_webhook(
        &self,
        _payload: &[u8],
        _signature: Option<&str>,
        _now: DateTime<Utc>,
    ) -> Result<WebhookEvent, GatewayError> {
        Err(GatewayError::Signature("no webhook secret is configured (sandbox)".to_owned()))
    }

    fn sandbox(&self) -> Option<&dyn Sandbox> {
        Some(self)
    }
}

impl Sandbox for SandboxGateway {
    fn complete_onboarding(&self, account_id: &str) -> Option<String> {
        let mut accounts = self.accounts();
        let account = accounts.get_mut(account_id)?;
        account.complete = true;
        Some(
            account
                .return_url
                .clone()
                .unwrap_or_else(|| format!("{}/onboarding/done", self.public_url)),
        )
    }

    fn pay(&self, session_id: &str) -> Option<String> {
        let mut sessions = self.sessions();
        let session = sessions.get_mut(session_id)?;
        session.paid = true;
        Some(session.request.success_url.replace(SESSION_PLACEHOLDER, session_id))
    }

    fn cancel(&self, session_id: &str) -> Option<String> {
        self.sessions().get(session_id).map(|s| s.request.cancel_url.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_refund_always_succeeds_and_is_remembered() {
        let sandbox = SandboxGateway::new("http://127.0.0.1:8080");
        assert!(!sandbox.refunded("pi_sandbox_1"));
        sandbox.refund("pi_sandbox_1", "refund-1").await.expect("refund");
        assert!(sandbox.refunded("pi_sandbox_1"));
        // Again (another key): already refunded, still Ok.
        sandbox.refund("pi_sandbox_1", "refund-2").await.expect("again");
        assert!(!sandbox.refunded("pi_sandbox_2"));
    }

    #[tokio::test]
    async fn payouts_pause_and_resume_per_account() {
        let sandbox = SandboxGateway::new("http://127.0.0.1:8080");
        let request = AccountRequest { user_id: "seller".to_owned(), email: None };
        let account = sandbox.create_account(request).await.expect("account");
        assert_eq!(sandbox.payouts_paused(&account), Some(false));
        sandbox.set_payouts_paused(&account, true).await.expect("pause");
        assert_eq!(sandbox.payouts_paused(&account), Some(true));
        sandbox.set_payouts_paused(&account, false).await.expect("resume");
        assert_eq!(sandbox.payouts_paused(&account), Some(false));
        // An account the sandbox forgot (a restart) has nothing to pause.
        sandbox.set_payouts_paused("acct_sandbox_none", true).await.expect("forgotten account");
        assert_eq!(sandbox.payouts_paused("acct_sandbox_none"), None);
    }
}
