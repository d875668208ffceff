ALTER TABLE listing_versions DROP COLUMN upload_started_at;
