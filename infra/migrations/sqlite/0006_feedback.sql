-- Same schema as postgres/0006_feedback.sql, in SQLite's dialect.
CREATE TABLE feedback (
    query_id INTEGER PRIMARY KEY REFERENCES queries (id),
    useful   INTEGER NOT NULL,
    comment  TEXT,
    at       INTEGER NOT NULL
);
