DROP INDEX listings_live_popular;
DROP INDEX listings_live_newest;
DROP INDEX listings_live_rating;
DROP INDEX listings_live_price;
DROP INDEX listings_live_category_popular;
DROP INDEX listings_live_category_newest;
DROP INDEX listings_live_category_rating;
DROP INDEX listings_live_category_price;

CREATE INDEX listings_live_popular ON listings (popularity, id) WHERE archived_at IS NULL AND live_version_id IS NOT NULL;
CREATE INDEX listings_live_type_popular ON listings (listing_type, popularity, id) WHERE archived_at IS NULL AND live_version_id IS NOT NULL;
CREATE INDEX listings_live_category_popular ON listings (category, popularity, id) WHERE archived_at IS NULL AND live_version_id IS NOT NULL;
CREATE INDEX listings_live_newest ON listings (published_at, id) WHERE archived_at IS NULL AND live_version_id IS NOT NULL;
CREATE INDEX listings_live_rating ON listings (rating_average, rating_count, id) WHERE archived_at IS NULL AND live_version_id IS NOT NULL;
CREATE INDEX listings_live_price ON listings (price_cents, id) WHERE archived_at IS NULL AND live_version_id IS NOT NULL;
