-- The state of every PDF a trigger has seen, per collection: indexed, failed (with why) or
-- removed. One row per (collection, name), overwritten by the latest ingest of that name.
CREATE TABLE documents (
    collection    TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('indexed', 'failed', 'removed')),
    reason        TEXT,
    sha256        TEXT,
    pages         INTEGER NOT NULL,
    chunks        INTEGER NOT NULL,
    index_version TEXT,
    updated_at    BIGINT  NOT NULL,
    PRIMARY KEY (collection, name)
);
