-- The catalog's change log: one row per change to a listing (or to the name its author
-- shows), written by triggers in the transaction of the change itself. Every instance's
-- search index follows it; full-text search moves out of the database, so the tsvector
-- column, its index and its triggers go. `kind` is 'counts' when only download or install
-- counts moved (they move all the time and do not warrant dropping caches), else 'listing'.
DROP TRIGGER users_search_author ON users;
DROP FUNCTION users_search_author();
DROP TRIGGER listings_search_vector ON listings;
DROP FUNCTION listings_search_vector();
DROP INDEX listings_search;
ALTER TABLE listings DROP COLUMN search_vector;

CREATE TABLE catalog_changes (
    id BIGSERIAL PRIMARY KEY,
    listing_id TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'listing'
);

CREATE FUNCTION catalog_changes_listing() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO catalog_changes (listing_id) VALUES (OLD.id);
    ELSE
        INSERT INTO catalog_changes (listing_id, kind) VALUES (NEW.id, TG_ARGV[0]);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER catalog_changes_listing
    AFTER INSERT OR DELETE OR UPDATE OF slug, owner_id, listing_type, title, description,
        long_description, category, price_cents, live_version_id, archived_at, published_at,
        rating_sum, rating_count ON listings
    FOR EACH ROW EXECUTE FUNCTION catalog_changes_listing('listing');

CREATE TRIGGER catalog_changes_counts
    AFTER UPDATE OF download_count, install_count ON listings
    FOR EACH ROW EXECUTE FUNCTION catalog_changes_listing('counts');

CREATE FUNCTION catalog_changes_author() RETURNS trigger AS $$
BEGIN
    IF NEW.display_name IS DISTINCT FROM OLD.display_name THEN
        INSERT INTO catalog_changes (listing_id) SELECT id FROM listings WHERE owner_id = NEW.id;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER catalog_changes_author
    AFTER UPDATE OF display_name ON users
    FOR EACH ROW EXECUTE FUNCTION catalog_changes_author();
