DROP TRIGGER catalog_changes_insert;
DROP TRIGGER catalog_changes_update;
DROP TRIGGER catalog_changes_delete;
DROP TRIGGER catalog_changes_counts;
DROP TRIGGER catalog_changes_author;
DROP TABLE catalog_changes;

CREATE VIRTUAL TABLE listings_fts USING fts5 (
    title, description, long_description, category, author,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);

INSERT INTO listings_fts (rowid, title, description, long_description, category, author)
SELECT l.rid, l.title, l.description, l.long_description, l.category,
       coalesce((SELECT display_name FROM users WHERE id = l.owner_id), '')
  FROM listings l WHERE l.archived_at IS NULL AND l.live_version_id IS NOT NULL;

CREATE TRIGGER listings_fts_insert AFTER INSERT ON listings
WHEN new.archived_at IS NULL AND new.live_version_id IS NOT NULL BEGIN
    INSERT INTO listings_fts (rowid, title, description, long_description, category, author)
    VALUES (new.rid, new.title, new.description, new.long_description, new.category,
            coalesce((SELECT display_name FROM users WHERE id = new.owner_id), ''));
END;

CREATE TRIGGER listings_fts_update
AFTER UPDATE OF title, description, long_description, category, archived_at, live_version_id ON listings BEGIN
    DELETE FROM listings_fts WHERE rowid = old.rid;
    INSERT INTO listings_fts (rowid, title, description, long_description, category, author)
    SELECT new.rid, new.title, new.description, new.long_description, new.category,
           coalesce((SELECT display_name FROM users WHERE id = new.owner_id), '')
    WHERE new.archived_at IS NULL AND new.live_version_id IS NOT NULL;
END;

CREATE TRIGGER listings_fts_delete AFTER DELETE ON listings BEGIN
    DELETE FROM listings_fts WHERE rowid = old.rid;
END;

CREATE TRIGGER users_fts_author AFTER UPDATE OF display_name ON users BEGIN
    UPDATE listings_fts SET author = coalesce(new.display_name, '')
     WHERE rowid IN (SELECT rid FROM listings WHERE owner_id = new.id);
END;
