DROP TABLE rescan_changes;
DROP TABLE rescans;
DROP INDEX users_deletion_due;
ALTER TABLE users DROP COLUMN erased_at;
ALTER TABLE listing_versions DROP COLUMN quarantined_at;
ALTER TABLE listings DROP COLUMN quarantined_at;
