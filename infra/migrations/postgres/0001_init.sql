-- Accounts and the question history. Times are Unix epoch milliseconds (UTC), set by the
-- application so that every store reports them identically.
CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('user', 'admin')),
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    BIGINT  NOT NULL
);

CREATE TABLE queries (
    id            BIGSERIAL PRIMARY KEY,
    user_id       BIGINT           NOT NULL REFERENCES users (id),
    question      TEXT             NOT NULL,
    answer        TEXT             NOT NULL,
    sources       JSONB            NOT NULL,
    best_score    REAL             NOT NULL,
    grounded      BOOLEAN          NOT NULL,
    latency_ms    DOUBLE PRECISION NOT NULL,
    index_version TEXT             NOT NULL,
    created_at    BIGINT           NOT NULL
);

-- History pages: one user's queries, newest first, keyset-paginated by id.
CREATE INDEX queries_user_id_id ON queries (user_id, id DESC);
