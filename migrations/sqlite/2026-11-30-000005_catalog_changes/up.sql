-- The catalog's change log: one row per change to a listing (or to the name its author
-- shows), written by triggers in the transaction of the change itself. Every instance's
-- search index follows it; full-text search moves out of the database, so FTS5 goes.
-- `kind` is 'counts' when only download or install counts moved (they move all the time
-- and do not warrant dropping caches), else 'listing'.
DROP TRIGGER listings_fts_insert;
DROP TRIGGER listings_fts_update;
DROP TRIGGER listings_fts_delete;
DROP TRIGGER users_fts_author;
DROP TABLE listings_fts;

CREATE TABLE catalog_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    listing_id TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'listing'
);

CREATE TRIGGER catalog_changes_insert AFTER INSERT ON listings BEGIN
    INSERT INTO catalog_changes (listing_id) VALUES (new.id);
END;

CREATE TRIGGER catalog_changes_update
AFTER UPDATE OF slug, owner_id, listing_type, title, description, long_description, category,
    price_cents, live_version_id, archived_at, published_at, rating_sum, rating_count ON listings BEGIN
    INSERT INTO catalog_changes (listing_id) VALUES (new.id);
END;

CREATE TRIGGER catalog_changes_counts AFTER UPDATE OF download_count, install_count ON listings BEGIN
    INSERT INTO catalog_changes (listing_id, kind) VALUES (new.id, 'counts');
END;

CREATE TRIGGER catalog_changes_delete AFTER DELETE ON listings BEGIN
    INSERT INTO catalog_changes (listing_id) VALUES (old.id);
END;

CREATE TRIGGER catalog_changes_author AFTER UPDATE OF display_name ON users
WHEN new.display_name IS NOT old.display_name BEGIN
    INSERT INTO catalog_changes (listing_id) SELECT id FROM listings WHERE owner_id = new.id;
END;
