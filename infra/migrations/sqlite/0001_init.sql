-- Same schema as postgres/0001_init.sql, in SQLite's dialect.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('user', 'admin')),
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL
);

CREATE TABLE queries (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    question      TEXT    NOT NULL,
    answer        TEXT    NOT NULL,
    sources       TEXT    NOT NULL,
    best_score    REAL    NOT NULL,
    grounded      INTEGER NOT NULL,
    latency_ms    REAL    NOT NULL,
    index_version TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE INDEX queries_user_id_id ON queries (user_id, id DESC);
