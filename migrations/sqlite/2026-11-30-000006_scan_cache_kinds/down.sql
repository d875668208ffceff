DROP TABLE scan_cache;
CREATE TABLE scan_cache (
    content_hash TEXT PRIMARY KEY NOT NULL,
    security_status TEXT NOT NULL CHECK (security_status IN ('pass', 'warn', 'block')),
    security_score INTEGER NOT NULL,
    findings TEXT NOT NULL,
    layers TEXT NOT NULL,
    scanner_version TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
