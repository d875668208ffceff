-- Each live listing's detail, stored as the bytes `GET /v1/skills/{slug}` answers, so a
-- detail nobody asked for lately is one lookup by slug instead of a join over four
-- B-trees. Derived data: the triggers below drop a listing's document in the transaction
-- of any change to the listing, its versions or its author, and name the listing in
-- `listing_documents_due`; the server rebuilds what is due (ap-market's `documents`).
-- A listing without a document is answered from the join, so a document is never stale.
CREATE TABLE listing_documents (
    slug TEXT PRIMARY KEY NOT NULL,
    listing_id TEXT NOT NULL UNIQUE,
    listing_type TEXT NOT NULL,
    body TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE listing_documents_due (
    listing_id TEXT PRIMARY KEY NOT NULL
) WITHOUT ROWID;

INSERT INTO listing_documents_due (listing_id) SELECT id FROM listings;

CREATE TRIGGER listing_documents_listing_insert AFTER INSERT ON listings BEGIN
    INSERT OR IGNORE INTO listing_documents_due (listing_id) VALUES (new.id);
END;

CREATE TRIGGER listing_documents_listing_update AFTER UPDATE ON listings BEGIN
    DELETE FROM listing_documents WHERE listing_id = old.id;
    INSERT OR IGNORE INTO listing_documents_due (listing_id) VALUES (new.id);
END;

CREATE TRIGGER listing_documents_listing_delete AFTER DELETE ON listings BEGIN
    DELETE FROM listing_documents WHERE listing_id = old.id;
END;

CREATE TRIGGER listing_documents_version_insert AFTER INSERT ON listing_versions BEGIN
    DELETE FROM listing_documents WHERE listing_id = new.listing_id;
    INSERT OR IGNORE INTO listing_documents_due (listing_id) VALUES (new.listing_id);
END;

CREATE TRIGGER listing_documents_version_update AFTER UPDATE ON listing_versions BEGIN
    DELETE FROM listing_documents WHERE listing_id IN (old.listing_id, new.listing_id);
    INSERT OR IGNORE INTO listing_documents_due (listing_id) VALUES (new.listing_id);
END;

CREATE TRIGGER listing_documents_version_delete AFTER DELETE ON listing_versions BEGIN
    DELETE FROM listing_documents WHERE listing_id = old.listing_id;
    INSERT OR IGNORE INTO listing_documents_due (listing_id) VALUES (old.listing_id);
END;

CREATE TRIGGER listing_documents_author AFTER UPDATE ON users BEGIN
    DELETE FROM listing_documents
        WHERE listing_id IN (SELECT id FROM listings WHERE owner_id = old.id);
    INSERT OR IGNORE INTO listing_documents_due (listing_id)
        SELECT id FROM listings WHERE owner_id = old.id;
END;
