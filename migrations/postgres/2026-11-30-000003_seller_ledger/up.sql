-- The seller of each purchase (the listing's owner when it was bought), so a seller's
-- sales are one index range.
ALTER TABLE purchases ADD COLUMN seller_id TEXT;
UPDATE purchases SET seller_id = listings.owner_id FROM listings WHERE listings.id = purchases.listing_id;
CREATE INDEX purchases_seller_completed ON purchases (seller_id, completed_at);

-- Sales per seller, listing and day (UTC, by the day of the sale), kept in the same
-- transaction as every sale and refund: a seller's figures over two years read at most
-- ~730 rows per listing instead of every purchase. Refunds count on the day of the sale
-- they undo. net = gross - refunded - fee.
CREATE TABLE listing_days (
    listing_id TEXT NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    day DATE NOT NULL,
    seller_id TEXT NOT NULL REFERENCES users (id),
    gross_cents BIGINT NOT NULL DEFAULT 0,
    refunded_cents BIGINT NOT NULL DEFAULT 0,
    fee_cents BIGINT NOT NULL DEFAULT 0,
    sales_count BIGINT NOT NULL DEFAULT 0,
    refunds_count BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (listing_id, day)
);
CREATE INDEX listing_days_seller_day ON listing_days (seller_id, day);
