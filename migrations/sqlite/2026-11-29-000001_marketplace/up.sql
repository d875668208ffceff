-- The whole marketplace schema (SQLite). The PostgreSQL twin has the same tables and
-- columns; backend-only parts: `listings.rid` + `listings_fts` here, `search_vector` there.
-- Ids are UUID strings, money is integer cents, timestamps are UTC.

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    identity_issuer TEXT NOT NULL,
    identity_subject TEXT NOT NULL,
    email TEXT,
    name TEXT,
    display_name TEXT,
    display_name_slug TEXT UNIQUE,
    github_username TEXT,
    bio TEXT,
    website_url TEXT,
    github_url TEXT,
    linkedin_url TEXT,
    twitter_url TEXT,
    avatar_url TEXT,
    verified BOOLEAN NOT NULL DEFAULT 0,
    account_status TEXT NOT NULL DEFAULT 'active' CHECK (account_status IN ('active', 'suspended', 'pending_deletion')),
    deletion_scheduled_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (identity_issuer, identity_subject)
);

CREATE TABLE seller_accounts (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stripe_account_id TEXT NOT NULL UNIQUE,
    charges_enabled BOOLEAN NOT NULL DEFAULT 0,
    payouts_enabled BOOLEAN NOT NULL DEFAULT 0,
    details_submitted BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE categories (
    slug TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    icon TEXT NOT NULL,
    sample_keywords TEXT NOT NULL,
    position INTEGER NOT NULL
);

CREATE TABLE listings (
    rid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    slug TEXT NOT NULL UNIQUE,
    owner_id TEXT NOT NULL REFERENCES users (id),
    listing_type TEXT NOT NULL CHECK (listing_type IN ('skill', 'agent')),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    long_description TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL REFERENCES categories (slug),
    price_cents BIGINT NOT NULL CHECK (price_cents >= 0),
    currency TEXT NOT NULL DEFAULT 'usd',
    live_version_id TEXT,
    current_version TEXT,
    security_status TEXT NOT NULL DEFAULT 'pending' CHECK (security_status IN ('pending', 'pass', 'warn', 'block')),
    security_score INTEGER,
    archived_at TIMESTAMP,
    published_at TIMESTAMP,
    download_count BIGINT NOT NULL DEFAULT 0,
    install_count BIGINT NOT NULL DEFAULT 0,
    view_count BIGINT NOT NULL DEFAULT 0,
    rating_sum BIGINT NOT NULL DEFAULT 0,
    rating_count BIGINT NOT NULL DEFAULT 0,
    popularity BIGINT GENERATED ALWAYS AS (download_count + install_count) STORED,
    rating_average DOUBLE GENERATED ALWAYS AS (CASE WHEN rating_count > 0 THEN CAST(rating_sum AS REAL) / rating_count ELSE 0 END) STORED,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Catalog orders over live listings. Each index covers the id, so a deep page is an
-- index walk without table lookups.
CREATE INDEX listings_live_popular ON listings (popularity, id) WHERE archived_at IS NULL AND live_version_id IS NOT NULL;
CREATE INDEX listings_live_type_popular ON listings (listing_type, popularity, id) WHERE archived_at IS NULL AND live_version_id IS NOT NULL;
CREATE INDEX listings_live_category_popular ON listings (category, popularity, id) WHERE archived_at IS NULL AND live_version_id IS NOT NULL;
CREATE INDEX listings_live_newest ON listings (published_at, id) WHERE archived_at IS NULL AND live_version_id IS NOT NULL;
CREATE INDEX listings_live_rating ON listings (rating_average, rating_count, id) WHERE archived_at IS NULL AND live_version_id IS NOT NULL;
CREATE INDEX listings_live_price ON listings (price_cents, id) WHERE archived_at IS NULL AND live_version_id IS NOT NULL;
CREATE INDEX listings_owner ON listings (owner_id);

CREATE TABLE listing_versions (
    id TEXT PRIMARY KEY NOT NULL,
    listing_id TEXT NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    version TEXT NOT NULL,
    major INTEGER NOT NULL,
    minor INTEGER NOT NULL,
    patch INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'live', 'blocked')),
    changelog TEXT,
    archive_sha256 TEXT,
    content_hash TEXT,
    size_bytes BIGINT,
    security_status TEXT CHECK (security_status IN ('pass', 'warn', 'block')),
    security_score INTEGER,
    findings TEXT,
    layers TEXT,
    scanned_at TIMESTAMP,
    published_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (listing_id, version)
);
-- At most one version waits for its upload.
CREATE UNIQUE INDEX listing_versions_one_pending ON listing_versions (listing_id) WHERE status = 'pending';
CREATE INDEX listing_versions_content_hash ON listing_versions (content_hash);

CREATE TABLE purchases (
    id TEXT PRIMARY KEY NOT NULL,
    buyer_id TEXT NOT NULL REFERENCES users (id),
    listing_id TEXT NOT NULL REFERENCES listings (id),
    amount_cents BIGINT NOT NULL CHECK (amount_cents >= 0),
    fee_cents BIGINT NOT NULL CHECK (fee_cents >= 0),
    currency TEXT NOT NULL DEFAULT 'usd',
    status TEXT NOT NULL CHECK (status IN ('pending', 'completed', 'failed', 'expired', 'refunded')),
    stripe_session_id TEXT UNIQUE,
    stripe_payment_intent_id TEXT,
    completed_at TIMESTAMP,
    refunded_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- A buyer owns a listing at most once.
CREATE UNIQUE INDEX purchases_one_completed ON purchases (buyer_id, listing_id) WHERE status = 'completed';
CREATE INDEX purchases_listing ON purchases (listing_id, status);
CREATE INDEX purchases_payment_intent ON purchases (stripe_payment_intent_id);

CREATE TABLE license_codes (
    code TEXT PRIMARY KEY NOT NULL,
    purchase_id TEXT NOT NULL UNIQUE REFERENCES purchases (id) ON DELETE CASCADE,
    redeemed_by TEXT REFERENCES users (id),
    redeemed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX license_codes_redeemed_by ON license_codes (redeemed_by);

CREATE TABLE reviews (
    id TEXT PRIMARY KEY NOT NULL,
    listing_id TEXT NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id),
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    text TEXT,
    verified_purchase BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (listing_id, user_id)
);
CREATE INDEX reviews_listing_created ON reviews (listing_id, created_at);

CREATE TABLE installations (
    id TEXT PRIMARY KEY NOT NULL,
    listing_id TEXT REFERENCES listings (id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    source_slug TEXT NOT NULL,
    user_id TEXT REFERENCES users (id),
    installer_key TEXT NOT NULL,
    hostname TEXT NOT NULL,
    platform TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    -- Counted once per (user, or anonymous host) and listing.
    UNIQUE (source, source_slug, installer_key)
);
CREATE INDEX installations_listing ON installations (listing_id);
CREATE INDEX installations_user ON installations (user_id);

CREATE TABLE cli_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP,
    revoked_reason TEXT
);
-- At most one active CLI token per user, whatever races.
CREATE UNIQUE INDEX cli_tokens_one_active ON cli_tokens (user_id) WHERE revoked_at IS NULL;

CREATE TABLE stripe_events (
    id TEXT PRIMARY KEY NOT NULL,
    event_type TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL
);

CREATE TABLE scan_cache (
    content_hash TEXT PRIMARY KEY NOT NULL,
    security_status TEXT NOT NULL CHECK (security_status IN ('pass', 'warn', 'block')),
    security_score INTEGER NOT NULL,
    findings TEXT NOT NULL,
    layers TEXT NOT NULL,
    scanner_version TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Full-text search over *live* listings only: title (strongest), description, long
-- description, category, author. Keeping archived and unpublished listings out of the
-- index lets a query rank and count in the index alone, without a join per match.
-- Tokens are matched as prefixes, so no stemmer (a stemmed index misses prefix queries).
CREATE VIRTUAL TABLE listings_fts USING fts5 (
    title, description, long_description, category, author,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);

CREATE TRIGGER listings_fts_insert AFTER INSERT ON listings
WHEN new.archived_at IS NULL AND new.live_version_id IS NOT NULL BEGIN
    INSERT INTO listings_fts (rowid, title, description, long_description, category, author)
    VALUES (new.rid, new.title, new.description, new.long_description, new.category,
            coalesce((SELECT display_name FROM users WHERE id = new.owner_id), ''));
END;

CREATE TRIGGER listings_fts_update
AFTER UPDATE OF title, description, long_description, category, archived_at, live_version_id ON listings BEGIN
    DELETE FROM listings_fts WHERE rowid = old.rid;
    INSERT INTO listings_fts (rowid, title, description, long_description, category, author)
    SELECT new.rid, new.title, new.description, new.long_description, new.category,
           coalesce((SELECT display_name FROM users WHERE id = new.owner_id), '')
    WHERE new.archived_at IS NULL AND new.live_version_id IS NOT NULL;
END;

CREATE TRIGGER listings_fts_delete AFTER DELETE ON listings BEGIN
    DELETE FROM listings_fts WHERE rowid = old.rid;
END;

CREATE TRIGGER users_fts_author AFTER UPDATE OF display_name ON users BEGIN
    UPDATE listings_fts SET author = coalesce(new.display_name, '')
     WHERE rowid IN (SELECT rid FROM listings WHERE owner_id = new.id);
END;
