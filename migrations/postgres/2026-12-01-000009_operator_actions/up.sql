-- What administrators and departing users do to published things (docs/API.md,
-- Administration; docs/PRIVACY.md):
-- * a quarantined version, or every version of a quarantined listing, is never served;
-- * `users.erased_at` marks an account whose personal data was erased after its
--   deletion grace period (the row stays, anonymous, for purchases and reviews);
-- * a rescan runs the current scan rules over every live version: the job's progress,
--   and each verdict it changed.
ALTER TABLE listings ADD COLUMN quarantined_at TIMESTAMP;
ALTER TABLE listing_versions ADD COLUMN quarantined_at TIMESTAMP;
ALTER TABLE users ADD COLUMN erased_at TIMESTAMP;
CREATE INDEX users_deletion_due ON users (deletion_scheduled_at)
    WHERE account_status = 'pending_deletion';

CREATE TABLE rescans (
    id TEXT PRIMARY KEY NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT NOT NULL,
    scanner_version TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed')),
    total BIGINT NOT NULL,
    done BIGINT NOT NULL DEFAULT 0,
    changed BIGINT NOT NULL DEFAULT 0,
    started_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    error TEXT
);

CREATE TABLE rescan_changes (
    rescan_id TEXT NOT NULL REFERENCES rescans (id),
    version_id TEXT NOT NULL,
    listing_id TEXT NOT NULL,
    slug TEXT NOT NULL,
    version TEXT NOT NULL,
    before_status TEXT NOT NULL,
    after_status TEXT NOT NULL,
    before_score INTEGER,
    after_score INTEGER NOT NULL,
    PRIMARY KEY (rescan_id, version_id)
);
