DROP TRIGGER listing_documents_author ON users;
DROP FUNCTION listing_documents_author();
DROP TRIGGER listing_documents_version ON listing_versions;
DROP FUNCTION listing_documents_version();
DROP TRIGGER listing_documents_listing ON listings;
DROP FUNCTION listing_documents_listing();
DROP FUNCTION listing_documents_try_lock();
DROP TABLE listing_documents_due;
DROP TABLE listing_documents;
