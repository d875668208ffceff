-- Each live listing's detail, stored as the JSON `GET /v1/skills/{slug}` answers, so a
-- detail nobody asked for lately is one lookup by slug instead of a join over four
-- B-trees. Derived data: the triggers below name a listing in `listing_documents_due`
-- in the transaction of any change to the listing, its versions or its author, and a
-- due listing's document is not served (the reader checks); the server rebuilds what is
-- due (ap-market's `documents`). A listing without a servable document is answered from
-- the join, so a document is never stale. The due table has no key: a trigger's insert
-- never waits for another writer's.
CREATE TABLE listing_documents (
    slug TEXT PRIMARY KEY NOT NULL,
    listing_id TEXT NOT NULL UNIQUE,
    listing_type TEXT NOT NULL,
    -- The digest of the build's rendering that wrote `body`: another build's documents
    -- are not served, and are marked due again.
    format TEXT NOT NULL,
    body TEXT NOT NULL
) WITHOUT ROWID;

CREATE INDEX listing_documents_format ON listing_documents (format);

CREATE TABLE listing_documents_due (
    listing_id TEXT NOT NULL
);

CREATE INDEX listing_documents_due_listing ON listing_documents_due (listing_id);

INSERT INTO listing_documents_due (listing_id) SELECT id FROM listings;

CREATE TRIGGER listing_documents_listing_insert AFTER INSERT ON listings BEGIN
    INSERT INTO listing_documents_due (listing_id) VALUES (new.id);
END;

CREATE TRIGGER listing_documents_listing_update AFTER UPDATE ON listings BEGIN
    INSERT INTO listing_documents_due (listing_id) VALUES (old.id);
END;

CREATE TRIGGER listing_documents_listing_delete AFTER DELETE ON listings BEGIN
    INSERT INTO listing_documents_due (listing_id) VALUES (old.id);
END;

CREATE TRIGGER listing_documents_version_insert AFTER INSERT ON listing_versions BEGIN
    INSERT INTO listing_documents_due (listing_id) VALUES (new.listing_id);
END;

CREATE TRIGGER listing_documents_version_update AFTER UPDATE ON listing_versions BEGIN
    INSERT INTO listing_documents_due (listing_id) VALUES (old.listing_id);
    INSERT INTO listing_documents_due (listing_id)
        SELECT new.listing_id WHERE new.listing_id IS NOT old.listing_id;
END;

CREATE TRIGGER listing_documents_version_delete AFTER DELETE ON listing_versions BEGIN
    INSERT INTO listing_documents_due (listing_id) VALUES (old.listing_id);
END;

CREATE TRIGGER listing_documents_author AFTER UPDATE ON users BEGIN
    INSERT INTO listing_documents_due (listing_id)
        SELECT id FROM listings WHERE owner_id = old.id;
END;
