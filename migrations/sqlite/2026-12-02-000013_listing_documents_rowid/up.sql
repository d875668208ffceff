-- The documents move from a WITHOUT ROWID table to an ordinary one. A row of that table
-- is its B-tree's key, whole: a document of about a kilobyte overflowed its 4 KB page,
-- and SQLite reads a cell's overflow page to compare keys at every step of its descent,
-- so one lookup by slug made about twenty reads (measured). Here the B-tree is keyed by
-- the rowid, the slug's index holds only slugs, and a document up to about 4 KB stays
-- on its page. Derived data: every listing is marked due and the server rebuilds them.
DROP TABLE listing_documents;

CREATE TABLE listing_documents (
    slug TEXT NOT NULL UNIQUE,
    listing_id TEXT NOT NULL UNIQUE,
    listing_type TEXT NOT NULL,
    -- The digest of the build's rendering that wrote `body`: another build's documents
    -- are not served, and are marked due again.
    format TEXT NOT NULL,
    body TEXT NOT NULL
);

CREATE INDEX listing_documents_format ON listing_documents (format);

INSERT INTO listing_documents_due (listing_id) SELECT id FROM listings;
