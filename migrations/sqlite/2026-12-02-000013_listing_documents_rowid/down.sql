DROP TABLE listing_documents;

CREATE TABLE listing_documents (
    slug TEXT PRIMARY KEY NOT NULL,
    listing_id TEXT NOT NULL UNIQUE,
    listing_type TEXT NOT NULL,
    format TEXT NOT NULL,
    body TEXT NOT NULL
) WITHOUT ROWID;

CREATE INDEX listing_documents_format ON listing_documents (format);

INSERT INTO listing_documents_due (listing_id) SELECT id FROM listings;
