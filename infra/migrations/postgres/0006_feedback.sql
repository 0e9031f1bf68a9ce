-- A technician's verdict on an answer: one per question, replaced when given again.
CREATE TABLE feedback (
    query_id BIGINT  PRIMARY KEY REFERENCES queries (id),
    useful   BOOLEAN NOT NULL,
    comment  TEXT,
    at       BIGINT  NOT NULL
);
