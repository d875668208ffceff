DROP INDEX listing_versions_newest;
