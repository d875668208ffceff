-- Browsing: every sort has an index over all live listings and one per category, and
-- each carries the type and price after the id, so a type or price filter is checked
-- inside the index. A page of any category × sort × type × price combination is then a
-- walk of one index (at most `offset + limit` entries when unfiltered, more by the
-- filter's selectivity), never a sort of the category. The type and price filters are
-- not index seeks (a type or price matches a large share of the catalog): no index
-- leads with the type, and on SQLite the store writes the price filter `+price_cents`.
DROP INDEX listings_live_popular;
DROP INDEX listings_live_type_popular;
DROP INDEX listings_live_category_popular;
DROP INDEX listings_live_newest;
DROP INDEX listings_live_rating;
DROP INDEX listings_live_price;

CREATE INDEX listings_live_popular ON listings (popularity, id, listing_type, price_cents) WHERE archived_at IS NULL AND live_version_id IS NOT NULL;
CREATE INDEX listings_live_newest ON listings (published_at, id, listing_type, price_cents) WHERE archived_at IS NULL AND live_version_id IS NOT NULL;
CREATE INDEX listings_live_rating ON listings (rating_average, rating_count, id, listing_type, price_cents) WHERE archived_at IS NULL AND live_version_id IS NOT NULL;
CREATE INDEX listings_live_price ON listings (price_cents, id, listing_type) WHERE archived_at IS NULL AND live_version_id IS NOT NULL;
CREATE INDEX listings_live_category_popular ON listings (category, popularity, id, listing_type, price_cents) WHERE archived_at IS NULL AND live_version_id IS NOT NULL;
CREATE INDEX listings_live_category_newest ON listings (category, published_at, id, listing_type, price_cents) WHERE archived_at IS NULL AND live_version_id IS NOT NULL;
CREATE INDEX listings_live_category_rating ON listings (category, rating_average, rating_count, id, listing_type, price_cents) WHERE archived_at IS NULL AND live_version_id IS NOT NULL;
CREATE INDEX listings_live_category_price ON listings (category, price_cents, id, listing_type) WHERE archived_at IS NULL AND live_version_id IS NOT NULL;
