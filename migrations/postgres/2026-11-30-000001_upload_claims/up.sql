-- An upload being scanned claims its pending version, so a PATCH meanwhile answers 409;
-- a pending version without a live claim is replaced by the next PATCH.
ALTER TABLE listing_versions ADD COLUMN upload_started_at TIMESTAMP;
