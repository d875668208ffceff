-- Each live listing's detail, stored as the JSON `GET /v1/skills/{slug}` answers, so a
-- detail nobody asked for lately is one lookup by slug instead of a join. Derived data:
-- the triggers below name a listing in `listing_documents_due` in the transaction of
-- any change to the listing, its versions or its author, and a due listing's document
-- is not served (the reader checks); the server rebuilds what is due (ap-market's
-- `documents`). A listing without a servable document is answered from the join, so a
-- document is never stale.
--
-- The triggers only insert into a table without a key: they take no row lock and never
-- wait for one another. A builder takes `LOCK TABLE listing_documents_due IN SHARE ROW
-- EXCLUSIVE MODE NOWAIT` before it reads: granted only when no writer that marked a
-- listing due is still open (else the builder leaves its round), and every later
-- writer's trigger waits for the builder to commit, then marks its listing due again.
CREATE TABLE listing_documents (
    slug TEXT PRIMARY KEY,
    listing_id TEXT NOT NULL UNIQUE,
    listing_type TEXT NOT NULL,
    -- The digest of the build's rendering that wrote `body`: another build's documents
    -- are not served, and are marked due again.
    format TEXT NOT NULL,
    body TEXT NOT NULL
);

CREATE INDEX listing_documents_format ON listing_documents (format);

CREATE TABLE listing_documents_due (
    listing_id TEXT NOT NULL
);

CREATE INDEX listing_documents_due_listing ON listing_documents_due (listing_id);

INSERT INTO listing_documents_due (listing_id) SELECT id FROM listings;

-- The builder's lock (see above), or false at once while a writer holds the due marks.
-- Taken inside this block, the lock stays with the calling transaction.
CREATE FUNCTION listing_documents_try_lock() RETURNS boolean AS $$
BEGIN
    LOCK TABLE listing_documents_due IN SHARE ROW EXCLUSIVE MODE NOWAIT;
    RETURN true;
EXCEPTION WHEN lock_not_available THEN
    RETURN false;
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION listing_documents_listing() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO listing_documents_due (listing_id) VALUES (OLD.id);
    ELSE
        INSERT INTO listing_documents_due (listing_id) VALUES (NEW.id);
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
        INSERT INTO listing_documents_due (listing_id) VALUES (OLD.listing_id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.listing_id <> OLD.listing_id) THEN
        INSERT INTO listing_documents_due (listing_id) VALUES (NEW.listing_id);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER listing_documents_version
    AFTER INSERT OR UPDATE OR DELETE ON listing_versions
    FOR EACH ROW EXECUTE FUNCTION listing_documents_version();

CREATE FUNCTION listing_documents_author() RETURNS trigger AS $$
BEGIN
    INSERT INTO listing_documents_due (listing_id)
        SELECT id FROM listings WHERE owner_id = OLD.id;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER listing_documents_author
    AFTER UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION listing_documents_author();
