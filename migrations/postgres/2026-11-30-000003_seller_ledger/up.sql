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

-- The same sums per seller and day (all listings together): a seller's figures over two
-- years are one range of at most 731 rows, stored in key order.
CREATE TABLE seller_days (
    seller_id TEXT NOT NULL,
    day DATE NOT NULL,
    gross_cents BIGINT NOT NULL DEFAULT 0,
    refunded_cents BIGINT NOT NULL DEFAULT 0,
    fee_cents BIGINT NOT NULL DEFAULT 0,
    sales_count BIGINT NOT NULL DEFAULT 0,
    refunds_count BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (seller_id, day)
);

-- The sales made before this migration.
INSERT INTO listing_days (listing_id, day, seller_id, gross_cents, refunded_cents, fee_cents, sales_count, refunds_count)
SELECT listing_id, CAST(completed_at AS DATE), seller_id,
       SUM(amount_cents),
       SUM(CASE WHEN status = 'refunded' THEN amount_cents ELSE 0 END),
       SUM(CASE WHEN status = 'completed' THEN fee_cents ELSE 0 END),
       SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END),
       SUM(CASE WHEN status = 'refunded' THEN 1 ELSE 0 END)
  FROM purchases
 WHERE status IN ('completed', 'refunded') AND completed_at IS NOT NULL AND seller_id IS NOT NULL
 GROUP BY listing_id, CAST(completed_at AS DATE), seller_id;

INSERT INTO seller_days (seller_id, day, gross_cents, refunded_cents, fee_cents, sales_count, refunds_count)
SELECT seller_id, day, SUM(gross_cents), SUM(refunded_cents), SUM(fee_cents), SUM(sales_count), SUM(refunds_count)
  FROM listing_days
 GROUP BY seller_id, day;
