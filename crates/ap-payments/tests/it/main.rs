//! The real Stripe client against a fake Stripe: the form fields sent, idempotency,
//! error bodies mapped to the marketplace's codes, refunds, payout pauses, and webhook
//! verification.

use std::time::Duration;

use ap_domain::{Code, ErrorCode};
use ap_market::payments::{
    AccountRequest, CheckoutRequest, GatewayError, GatewayEvent, PaymentGateway,
};
use ap_payments::signature::sign;
use ap_payments::testing::{FakeStripe, event};
use ap_payments::{StripeGateway, StripeSettings};
use serde_json::json;

const WEBHOOK_SECRET: &str = "whsec_test_secret";

fn gateway(fake: &FakeStripe) -> StripeGateway {
    StripeGateway::new(StripeSettings {
        secret_key: "sk_test_fake".to_owned().into(),
        webhook_secret: Some(WEBHOOK_SECRET.to_owned().into()),
        api_base: Some(fake.url.clone()),
        timeout: Duration::from_secs(5),
    })
    .expect("gateway")
}

fn request() -> CheckoutRequest {
    CheckoutRequest {
        purchase_id: "0199-purchase".to_owned(),
        listing_slug: "pdf-wizard".to_owned(),
        title: "PDF Wizard".to_owned(),
        amount_cents: 1_250,
        currency: "usd".to_owned(),
        fee_cents: 188,
        destination: "acct_seller".to_owned(),
        success_url: "http://127.0.0.1:8080/purchase/success?session_id={CHECKOUT_SESSION_ID}"
            .to_owned(),
        cancel_url: "http://127.0.0.1:8080/skills/pdf-wizard".to_owned(),
        customer_email: Some("buyer@example.com".to_owned()),
    }
}

#[actix_web::test]
async fn a_checkout_is_a_destination_charge_with_the_platform_fee() {
    let fake = FakeStripe::start();
    let stripe = gateway(&fake);
    let session = stripe.create_checkout(request()).await.expect("checkout");
    assert!(session.id.starts_with("cs_test_"));
    assert_eq!(session.url, format!("https://checkout.stripe.test/c/pay/{}", session.id));
    let sent = fake.requests().pop().expect("one request");
    assert_eq!(sent.route, "POST /v1/checkout/sessions");
    let field = |name: &str| sent.form.get(name).map(String::as_str);
    assert_eq!(field("mode"), Some("payment"));
    assert_eq!(field("payment_intent_data[application_fee_amount]"), Some("188"));
    assert_eq!(field("payment_intent_data[transfer_data][destination]"), Some("acct_seller"));
    assert_eq!(field("payment_intent_data[metadata][purchase_id]"), Some("0199-purchase"));
    assert_eq!(field("metadata[purchase_id]"), Some("0199-purchase"));
    assert_eq!(field("client_reference_id"), Some("0199-purchase"));
    assert_eq!(field("line_items[0][price_data][unit_amount]"), Some("1250"));
    assert_eq!(field("line_items[0][price_data][currency]"), Some("usd"));
    assert_eq!(field("line_items[0][price_data][product_data][name]"), Some("PDF Wizard"));
    assert_eq!(field("line_items[0][quantity]"), Some("1"));
    assert_eq!(field("customer_email"), Some("buyer@example.com"));
    assert_eq!(
        field("success_url"),
        Some("http://127.0.0.1:8080/purchase/success?session_id={CHECKOUT_SESSION_ID}")
    );
    assert_eq!(sent.idempotency_key.as_deref(), Some("checkout-0199-purchase"));
    assert!(sent.stripe_version.is_some_and(|v| !v.is_empty()), "the API version is pinned");

    // The same purchase again is the same checkout (the idempotency key).
    let again = stripe.create_checkout(request()).await.expect("again");
    assert_eq!(again.id, session.id);

    // Retrieval reports unpaid, then paid with its payment intent.
    let state = stripe.retrieve_session(&session.id).await.expect("retrieve");
    assert!(!state.paid && !state.expired && state.payment_intent.is_none());
    let payment = fake.pay(&session.id);
    let state = stripe.retrieve_session(&session.id).await.expect("retrieve");
    assert!(state.paid);
    assert_eq!(state.payment_intent.as_deref(), Some(payment.as_str()));
    let missing = stripe.retrieve_session("cs_test_none").await;
    assert!(matches!(missing, Err(GatewayError::Unknown(_))), "{missing:?}");
}

#[actix_web::test]
async fn stripe_error_bodies_map_to_our_codes() {
    let fake = FakeStripe::start();
    let stripe = gateway(&fake);
    let cases = [
        (
            402,
            json!({"type": "card_error", "code": "card_declined", "message": "Your card was declined."}),
            Code::PaymentDeclined,
            402,
        ),
        (
            429,
            json!({"type": "invalid_request_error", "code": "rate_limit", "message": "Too many requests"}),
            Code::PaymentProviderUnavailable,
            503,
        ),
        (
            400,
            json!({"type": "invalid_request_error", "code": "parameter_invalid_integer", "message": "Invalid integer"}),
            Code::PaymentProviderError,
            502,
        ),
        (
            500,
            json!({"type": "api_error", "message": "Something went wrong on Stripe's end."}),
            Code::PaymentProviderUnavailable,
            503,
        ),
    ];
    for (status, body, code, http) in cases {
        fake.fail_next(status, body);
        let error = stripe.create_checkout(request()).await.expect_err("refused");
        assert_eq!((error.code(), error.code().http_status()), (code, http), "{status}: {error}");
    }
}

#[actix_web::test]
async fn a_refund_reverses_the_transfer_and_the_fee_once() {
    let fake = FakeStripe::start();
    let stripe = gateway(&fake);
    let session = stripe.create_checkout(request()).await.expect("checkout");
    let payment = fake.pay(&session.id);
    assert!(!fake.refunded(&payment));
    stripe.refund(&payment, "refund-0199-purchase").await.expect("refund");
    assert!(fake.refunded(&payment));
    let sent = fake.requests().pop().expect("the refund");
    assert_eq!(sent.route, "POST /v1/refunds");
    let field = |name: &str| sent.form.get(name).map(String::as_str);
    assert_eq!(field("payment_intent"), Some(payment.as_str()));
    assert_eq!(field("reverse_transfer"), Some("true"));
    assert_eq!(field("refund_application_fee"), Some("true"));
    assert_eq!(sent.idempotency_key.as_deref(), Some("refund-0199-purchase"));

    // The same key again is the same refund; another key finds the payment refunded
    // already (Stripe's `charge_already_refunded`), which is done, not an error.
    stripe.refund(&payment, "refund-0199-purchase").await.expect("replayed");
    stripe.refund(&payment, "refund-0199-again").await.expect("already refunded");
    let refunds = fake.requests().iter().filter(|r| r.route == "POST /v1/refunds").count();
    assert_eq!(refunds, 3);

    // Any other refusal stays an error; an unknown payment is unknown.
    fake.fail_next(
        400,
        json!({"type": "invalid_request_error", "code": "parameter_invalid_integer", "message": "Invalid integer"}),
    );
    let refused = stripe.refund(&payment, "refund-0199-refused").await;
    assert!(matches!(refused, Err(GatewayError::Rejected(_))), "{refused:?}");
    let missing = stripe.refund("pi_test_none", "refund-none").await;
    assert!(matches!(missing, Err(GatewayError::Unknown(_))), "{missing:?}");
}

#[actix_web::test]
async fn payouts_pause_with_a_manual_schedule_and_resume_daily() {
    let fake = FakeStripe::start();
    let stripe = gateway(&fake);
    let request = AccountRequest { user_id: "0199-seller".to_owned(), email: None };
    let account = stripe.create_account(request).await.expect("account");
    assert_eq!(fake.payout_interval(&account), None);
    stripe.set_payouts_paused(&account, true).await.expect("pause");
    assert_eq!(fake.payout_interval(&account).as_deref(), Some("manual"));
    let sent = fake.requests().pop().expect("the update");
    assert_eq!(sent.route, format!("POST /v1/accounts/{account}"));
    assert_eq!(
        sent.form.get("settings[payouts][schedule][interval]").map(String::as_str),
        Some("manual")
    );
    stripe.set_payouts_paused(&account, false).await.expect("resume");
    assert_eq!(fake.payout_interval(&account).as_deref(), Some("daily"));
    let missing = stripe.set_payouts_paused("acct_test_none", true).await;
    assert!(matches!(missing, Err(GatewayError::Unknown(_))), "{missing:?}");
}

#[actix_web::test]
async fn webhooks_verify_their_signature_before_anything_is_read() {
    let fake = FakeStripe::start();
    let stripe = gateway(&fake);
    let body = event("evt_1", "checkout.session.completed", json!({"id": "cs_test_1"}));
    let now = chrono::Utc::now();
    let header = sign(body.as_bytes(), WEBHOOK_SECRET, now.timestamp());
    let parsed = stripe.parse_webhook(body.as_bytes(), Some(&header), now).expect("verified");
    assert_eq!(parsed.event, GatewayEvent::CheckoutSettled { session_id: "cs_test_1".to_owned() });
    for (header, when) in [
        (sign(body.as_bytes(), "whsec_forged", now.timestamp()), now),
        (header.clone(), now + chrono::Duration::seconds(301)),
        (String::new(), now),
    ] {
        let refused = stripe.parse_webhook(body.as_bytes(), Some(&header), when);
        assert_eq!(refused.map_err(|e| e.code()), Err(Code::WebhookSignatureInvalid));
    }
    assert!(stripe.parse_webhook(body.as_bytes(), None, now).is_err());
}
