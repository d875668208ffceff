DROP TABLE seller_days;
DROP TABLE listing_days;
DROP INDEX purchases_seller_completed;
ALTER TABLE purchases DROP COLUMN seller_id;
