-- Each live listing's detail, stored as the bytes `GET /v1/skills/{slug}` answers, so a
-- detail nobody asked for lately is one lookup by slug instead of a join. Derived data:
-- the triggers below drop a listing's document in the transaction of any change to the
-- listing, its versions or its author, and name the listing in `listing_documents_due`;
-- the server rebuilds what is due (ap-market's `documents`). A listing without a
-- document is answered from the join, so a document is never stale.
--
-- A builder takes `LOCK TABLE listing_documents IN SHARE ROW EXCLUSIVE MODE` before it
-- reads: it waits for every writer that already dropped a document, and every later
-- writer's trigger waits for the builder to commit and then drops what it wrote. No
-- foreign key to `listings`: the trigger of a writer holding a listing's row would wait
-- for the builder, and a key check by the builder would wait for that row.
CREATE TABLE listing_documents (
    slug TEXT PRIMARY KEY,
    listing_id TEXT NOT NULL UNIQUE,
    listing_type TEXT NOT NULL,
    body TEXT NOT NULL
);

CREATE TABLE listing_documents_due (
    listing_id TEXT PRIMARY KEY
);

INSERT INTO listing_documents_due (listing_id) SELECT id FROM listings;

CREATE FUNCTION listing_documents_stale(listing TEXT) RETURNS void AS $$
BEGIN
    DELETE FROM listing_documents WHERE listing_id = listing;
    INSERT INTO listing_documents_due (listing_id) VALUES (listing) ON CONFLICT DO NOTHING;
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION listing_documents_listing() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM listing_documents WHERE listing_id = OLD.id;
    ELSE
        PERFORM listing_documents_stale(NEW.id);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER listing_documents_listing
    AFTER INSERT OR UPDATE OR DELETE ON listings
    FOR EACH ROW EXECUTE FUNCTION listing_documents_listing();

CREATE FUNCTION listing_documents_version() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM listing_documents_stale(OLD.listing_id);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM listing_documents_stale(NEW.listing_id);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER listing_documents_version
    AFTER INSERT OR UPDATE OR DELETE ON listing_versions
    FOR EACH ROW EXECUTE FUNCTION listing_documents_version();

CREATE FUNCTION listing_documents_author() RETURNS trigger AS $$
BEGIN
    DELETE FROM listing_documents
        WHERE listing_id IN (SELECT id FROM listings WHERE owner_id = OLD.id);
    INSERT INTO listing_documents_due (listing_id)
        SELECT id FROM listings WHERE owner_id = OLD.id ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER listing_documents_author
    AFTER UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION listing_documents_author();
