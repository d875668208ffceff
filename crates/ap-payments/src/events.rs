//! Reading Stripe events (`{"id", "type", "data": {"object": {…}}}`) into what the
//! marketplace acts on. Only the few fields used are read, so a new Stripe API field
//! never breaks a delivery.

use ap_market::payments::{AccountFlags, GatewayError, GatewayEvent, WebhookEvent};
use serde_json::Value;

fn text<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object.get(key).and_then(Value::as_str)
}

fn flag(object: &Value, key: &str) -> bool {
    object.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn malformed(what: &str) -> GatewayError {
    GatewayError::Rejected(format!("webhook event without {what}"))
}

/// Reads a verified delivery's body.
pub fn parse(payload: &[u8]) -> Result<WebhookEvent, GatewayError> {
    let event: Value = serde_json::from_slice(payload).map_err(|_| malformed("a JSON body"))?;
    let id = text(&event, "id").ok_or_else(|| malformed("an id"))?.to_owned();
    let kind = text(&event, "type").ok_or_else(|| malformed("a type"))?.to_owned();
    let object = event.get("data").and_then(|d| d.get("object")).unwrap_or(&Value::Null);
    let session = || text(object, "id").map(str::to_owned).ok_or_else(|| malformed("an object id"));
    let event = match kind.as_str() {
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
            GatewayEvent::CheckoutSettled { session_id: session()? }
        }
        "checkout.session.async_payment_failed" => {
            GatewayEvent::CheckoutFailed { session_id: session()? }
        }
        "checkout.session.expired" => GatewayEvent::CheckoutExpired { session_id: session()? },
        "charge.refunded" => match text(object, "payment_intent") {
            Some(payment_intent) => GatewayEvent::Refunded {
                payment_intent: payment_intent.to_owned(),
                full: flag(object, "refunded"),
            },
            None => GatewayEvent::Ignored,
        },
        "account.updated" => GatewayEvent::AccountUpdated {
            account_id: session()?,
            flags: AccountFlags {
                charges_enabled: flag(object, "charges_enabled"),
                payouts_enabled: flag(object, "payouts_enabled"),
                details_submitted: flag(object, "details_submitted"),
            },
        },
        _ => GatewayEvent::Ignored,
    };
    Ok(WebhookEvent { id, kind, event })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(kind: &str, object: Value) -> Vec<u8> {
        json!({"id": "evt_1", "type": kind, "data": {"object": object}}).to_string().into_bytes()
    }

    #[test]
    fn the_events_acted_on_are_read() {
        let settled = parse(&event("checkout.session.completed", json!({"id": "cs_1"})));
        assert_eq!(
            settled.map(|e| e.event),
            Ok(GatewayEvent::CheckoutSettled { session_id: "cs_1".to_owned() })
        );
        let refund = parse(&event(
            "charge.refunded",
            json!({"id": "ch_1", "payment_intent": "pi_1", "refunded": true}),
        ));
        assert_eq!(
            refund.map(|e| e.event),
            Ok(GatewayEvent::Refunded { payment_intent: "pi_1".to_owned(), full: true })
        );
        let account = parse(&event(
            "account.updated",
            json!({"id": "acct_1", "charges_enabled": true, "payouts_enabled": false}),
        ));
        assert!(matches!(
            account.map(|e| e.event),
            Ok(GatewayEvent::AccountUpdated {
                flags: AccountFlags { charges_enabled: true, payouts_enabled: false, .. },
                ..
            })
        ));
        assert_eq!(
            parse(&event("invoice.paid", json!({}))).map(|e| e.event),
            Ok(GatewayEvent::Ignored)
        );
        assert!(parse(b"not json").is_err());
        assert!(parse(&event("checkout.session.completed", json!({}))).is_err());
    }
}
