-- A listing's detail and its live versions read them newest first: in this index's
-- order, so neither sorts them.
CREATE INDEX listing_versions_newest ON listing_versions (listing_id, major DESC, minor DESC, patch DESC);
