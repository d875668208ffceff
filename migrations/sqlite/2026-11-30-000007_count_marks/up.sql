-- Who has already been counted, per listing, kind of count and day: downloads and views
-- count once per visitor (a pseudonym of the user or client address, keyed by the
-- server's secret) and listing a day. Rows older than yesterday are pruned.
CREATE TABLE count_marks (
    listing_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('download', 'view')),
    visitor TEXT NOT NULL,
    day TEXT NOT NULL,
    PRIMARY KEY (listing_id, kind, visitor, day)
);
CREATE INDEX count_marks_day ON count_marks (day);
