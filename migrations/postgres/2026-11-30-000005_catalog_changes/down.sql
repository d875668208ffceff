DROP TRIGGER catalog_changes_author ON users;
DROP FUNCTION catalog_changes_author();
DROP TRIGGER catalog_changes_listing ON listings;
DROP TRIGGER catalog_changes_counts ON listings;
DROP FUNCTION catalog_changes_listing();
DROP TABLE catalog_changes;

ALTER TABLE listings ADD COLUMN search_vector TSVECTOR;
CREATE INDEX listings_search ON listings USING GIN (search_vector);

CREATE FUNCTION listings_search_vector() RETURNS trigger AS $$
BEGIN
    NEW.search_vector :=
        setweight(to_tsvector('simple', coalesce(NEW.title, '')), 'A') ||
        setweight(to_tsvector('simple', coalesce(NEW.description, '')), 'B') ||
        setweight(to_tsvector('simple', coalesce(NEW.category, '')), 'C') ||
        setweight(to_tsvector('simple', coalesce((SELECT display_name FROM users WHERE id = NEW.owner_id), '')), 'C') ||
        setweight(to_tsvector('simple', coalesce(NEW.long_description, '')), 'D');
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER listings_search_vector
    BEFORE INSERT OR UPDATE OF title, description, long_description, category, owner_id ON listings
    FOR EACH ROW EXECUTE FUNCTION listings_search_vector();

UPDATE listings SET title = title;

CREATE FUNCTION users_search_author() RETURNS trigger AS $$
BEGIN
    IF NEW.display_name IS DISTINCT FROM OLD.display_name THEN
        UPDATE listings SET title = title WHERE owner_id = NEW.id;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER users_search_author
    AFTER UPDATE OF display_name ON users
    FOR EACH ROW EXECUTE FUNCTION users_search_author();
