-- Same schema as postgres/0002_documents.sql, in SQLite's dialect.
CREATE TABLE documents (
    collection    TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('indexed', 'failed', 'removed')),
    reason        TEXT,
    sha256        TEXT,
    pages         INTEGER NOT NULL,
    chunks        INTEGER NOT NULL,
    index_version TEXT,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (collection, name)
);
