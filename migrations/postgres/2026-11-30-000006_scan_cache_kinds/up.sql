-- Verdicts are kept per package kind: the same files scanned as a skill and as an agent
-- get different verdicts (the manifest and tool layers differ), and neither may stand in
-- for the other. The rows of the previous rules are dropped with the old shape (every
-- cached verdict of older rules is stale anyway).
DROP TABLE scan_cache;
CREATE TABLE scan_cache (
    content_hash TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('skill', 'agent')),
    security_status TEXT NOT NULL CHECK (security_status IN ('pass', 'warn', 'block')),
    security_score INTEGER NOT NULL,
    findings TEXT NOT NULL,
    layers TEXT NOT NULL,
    scanner_version TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (content_hash, kind)
);
