-- Same as postgres/0004_clusters.sql; embeddings are little-endian f32 blobs.
CREATE TABLE cluster_runs (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at INTEGER NOT NULL,
    k          INTEGER NOT NULL,
    silhouette REAL    NOT NULL,
    inertia    REAL    NOT NULL,
    summary    TEXT    NOT NULL
);

ALTER TABLE queries ADD COLUMN embedding BLOB;
ALTER TABLE queries ADD COLUMN cluster_run INTEGER;
ALTER TABLE queries ADD COLUMN cluster INTEGER;

CREATE INDEX queries_cluster ON queries (cluster_run, cluster);
