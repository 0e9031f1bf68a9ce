-- Topics of the recorded questions. Each clustering run keeps its summary (clusters, their terms
-- and centroids, the elbow curve); each question keeps its embedding and the cluster it was last
-- placed in, by a run or, when asked, by the nearest centroid.
CREATE TABLE cluster_runs (
    id         BIGSERIAL        PRIMARY KEY,
    created_at BIGINT           NOT NULL,
    k          INTEGER          NOT NULL,
    silhouette REAL             NOT NULL,
    inertia    DOUBLE PRECISION NOT NULL,
    -- The clustering as JSON, without its assignments.
    summary    JSONB            NOT NULL
);

ALTER TABLE queries ADD COLUMN embedding REAL[];
ALTER TABLE queries ADD COLUMN cluster_run BIGINT;
ALTER TABLE queries ADD COLUMN cluster INTEGER;

-- A run's members, for trends.
CREATE INDEX queries_cluster ON queries (cluster_run, cluster);
