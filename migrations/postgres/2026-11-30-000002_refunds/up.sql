-- Full refunds by payment intent, kept even when the refund arrives before its checkout is
-- fulfilled (Stripe does not promise the order of webhooks): fulfilment then converges
-- to refunded.
CREATE TABLE payment_refunds (
    payment_intent_id TEXT PRIMARY KEY NOT NULL,
    refunded_at TIMESTAMP NOT NULL
);
