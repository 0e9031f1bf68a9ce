//! The PostgreSQL store: a connection pool (deadpool-postgres), versioned migrations applied at
//! start-up under an advisory lock, parameterised statements only.

use std::str::FromStr;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;

use super::{
    ClusterRef, ClusterRun, ClusterStore, DocumentRecord, DocumentStatus, DocumentStore, NewQuery,
    NewUser, QueryRecord, QueryStore, Role, Store, StoreError, User, UserStore, cluster_summary,
    now_ms,
};
use crate::cluster::{Clustering, QuestionPoint};

const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        include_str!("../../../../infra/migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        include_str!("../../../../infra/migrations/postgres/0002_documents.sql"),
    ),
    (
        3,
        include_str!("../../../../infra/migrations/postgres/0003_generator.sql"),
    ),
    (
        4,
        include_str!("../../../../infra/migrations/postgres/0004_clusters.sql"),
    ),
];
/// Serialises migrations when several processes start at once.
const MIGRATION_LOCK: i64 = 0x7261_6700;
const POOL_SIZE: usize = 16;

/// PostgreSQL-backed store.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
}

fn err(e: tokio_postgres::Error) -> StoreError {
    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        return StoreError::Conflict("row".into());
    }
    StoreError::Unavailable(e.to_string())
}

fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

const USER_COLUMNS: &str = "id, username, password_hash, role, active, created_at";

fn to_user(row: &tokio_postgres::Row) -> Result<User, StoreError> {
    Ok(User {
        id: row.get(0),
        username: row.get(1),
        password_hash: row.get(2),
        role: Role::parse(row.get::<_, &str>(3))?,
        active: row.get(4),
        created_at: row.get(5),
    })
}

impl PostgresStore {
    /// Connects to `url` (a `postgres://` URL) and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let config = tokio_postgres::Config::from_str(url)
            .map_err(|e| StoreError::Invalid(format!("DATABASE_URL: {e}")))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let store = PostgresStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.pool.get().await.map_err(pool_err)?;
        let tx = client.transaction().await.map_err(err)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(err)?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .await
        .map_err(err)?;
        for &(version, sql) in MIGRATIONS {
            let done = tx
                .query_opt(
                    "SELECT version FROM schema_migrations WHERE version = $1",
                    &[&version],
                )
                .await
                .map_err(err)?;
            if done.is_none() {
                tx.batch_execute(sql).await.map_err(err)?;
                tx.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                    &[&version, &now_ms()],
                )
                .await
                .map_err(err)?;
            }
        }
        tx.commit().await.map_err(err)
    }
}

#[async_trait::async_trait]
impl UserStore for PostgresStore {
    async fn create_user(&self, user: NewUser) -> Result<User, StoreError> {
        let client = self.pool.get().await.map_err(pool_err)?;
        let created = now_ms();
        let row = client
            .query_one(
                "INSERT INTO users (username, password_hash, role, active, created_at)
                 VALUES ($1, $2, $3, TRUE, $4) RETURNING id",
                &[
                    &user.username,
                    &user.password_hash,
                    &user.role.as_str(),
                    &created,
                ],
            )
            .await
            .map_err(|e| match err(e) {
                StoreError::Conflict(_) => StoreError::Conflict(format!("user {}", user.username)),
                other => other,
            })?;
        Ok(User {
            id: row.get(0),
            username: user.username,
            password_hash: user.password_hash,
            role: user.role,
            active: true,
            created_at: created,
        })
    }

    async fn user(&self, username: &str) -> Result<Option<User>, StoreError> {
        let client = self.pool.get().await.map_err(pool_err)?;
        client
            .query_opt(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1"),
                &[&username],
            )
            .await
            .map_err(err)?
            .as_ref()
            .map(to_user)
            .transpose()
    }

    async fn users(&self) -> Result<Vec<User>, StoreError> {
        let client = self.pool.get().await.map_err(pool_err)?;
        client
            .query(
                &format!("SELECT {USER_COLUMNS} FROM users ORDER BY username"),
                &[],
            )
            .await
            .map_err(err)?
            .iter()
            .map(to_user)
            .collect()
    }

    async fn update_user(
        &self,
        username: &str,
        active: Option<bool>,
        role: Option<Role>,
    ) -> Result<Option<User>, StoreError> {
        let client = self.pool.get().await.map_err(pool_err)?;
        let role = role.map(Role::as_str);
        client
            .query_opt(
                &format!(
                    "UPDATE users SET active = COALESCE($2, active), role = COALESCE($3, role)
                     WHERE username = $1 RETURNING {USER_COLUMNS}"
                ),
                &[&username, &active, &role],
            )
            .await
            .map_err(err)?
            .as_ref()
            .map(to_user)
            .transpose()
    }
}

#[async_trait::async_trait]
impl QueryStore for PostgresStore {
    async fn record_query(&self, q: NewQuery) -> Result<i64, StoreError> {
        let sources =
            serde_json::to_value(&q.sources).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let client = self.pool.get().await.map_err(pool_err)?;
        let row = client
            .query_one(
                "INSERT INTO queries (user_id, question, answer, sources, best_score, grounded, latency_ms, index_version, created_at, generator, model, embedding, cluster_run, cluster)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
                &[
                    &q.user_id,
                    &q.question,
                    &q.answer,
                    &tokio_postgres::types::Json(sources),
                    &q.best_score,
                    &q.grounded,
                    &q.latency_ms,
                    &q.index_version,
                    &now_ms(),
                    &q.generator,
                    &q.model,
                    &q.embedding,
                    &q.cluster.map(|c| c.run),
                    &q.cluster.map(|c| c.cluster as i32),
                ],
            )
            .await
            .map_err(err)?;
        Ok(row.get(0))
    }

    async fn history(
        &self,
        user_id: i64,
        limit: usize,
        before: Option<i64>,
    ) -> Result<Vec<QueryRecord>, StoreError> {
        let client = self.pool.get().await.map_err(pool_err)?;
        let rows = client
            .query(
                "SELECT id, user_id, question, answer, sources, best_score, grounded, latency_ms, index_version, created_at, generator, model, embedding, cluster_run, cluster
                 FROM queries WHERE user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
                &[&user_id, &before.unwrap_or(i64::MAX), &(limit as i64)],
            )
            .await
            .map_err(err)?;
        rows.iter()
            .map(|r| {
                let sources: tokio_postgres::types::Json<serde_json::Value> = r.get(4);
                Ok(QueryRecord {
                    id: r.get(0),
                    created_at: r.get(9),
                    query: NewQuery {
                        user_id: r.get(1),
                        question: r.get(2),
                        answer: r.get(3),
                        sources: serde_json::from_value(sources.0)
                            .map_err(|e| StoreError::Invalid(e.to_string()))?,
                        best_score: r.get(5),
                        grounded: r.get(6),
                        latency_ms: r.get(7),
                        index_version: r.get(8),
                        generator: r.get(10),
                        model: r.get(11),
                        embedding: r.get(12),
                        cluster: cluster_ref(r.get(13), r.get(14)),
                    },
                })
            })
            .collect()
    }

    async fn count_queries(&self) -> Result<u64, StoreError> {
        let client = self.pool.get().await.map_err(pool_err)?;
        let row = client
            .query_one("SELECT COUNT(*) FROM queries", &[])
            .await
            .map_err(err)?;
        Ok(row.get::<_, i64>(0) as u64)
    }
}

fn cluster_ref(run: Option<i64>, cluster: Option<i32>) -> Option<ClusterRef> {
    Some(ClusterRef {
        run: run?,
        cluster: cluster? as usize,
    })
}

const DOCUMENT_COLUMNS: &str =
    "collection, name, status, reason, sha256, pages, chunks, index_version, updated_at";

fn to_document(row: &tokio_postgres::Row) -> Result<DocumentRecord, StoreError> {
    Ok(DocumentRecord {
        collection: row.get(0),
        name: row.get(1),
        status: DocumentStatus::parse(row.get::<_, &str>(2))?,
        reason: row.get(3),
        sha256: row.get(4),
        pages: row.get::<_, i32>(5) as u32,
        chunks: row.get::<_, i32>(6) as u32,
        index_version: row.get(7),
        updated_at: row.get(8),
    })
}

#[async_trait::async_trait]
impl DocumentStore for PostgresStore {
    async fn record_document(&self, d: DocumentRecord) -> Result<(), StoreError> {
        let client = self.pool.get().await.map_err(pool_err)?;
        client
            .execute(
                &format!(
                    "INSERT INTO documents ({DOCUMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                     ON CONFLICT (collection, name) DO UPDATE SET status = EXCLUDED.status,
                       reason = EXCLUDED.reason, sha256 = EXCLUDED.sha256, pages = EXCLUDED.pages,
                       chunks = EXCLUDED.chunks, index_version = EXCLUDED.index_version,
                       updated_at = EXCLUDED.updated_at"
                ),
                &[
                    &d.collection,
                    &d.name,
                    &d.status.as_str(),
                    &d.reason,
                    &d.sha256,
                    &(d.pages as i32),
                    &(d.chunks as i32),
                    &d.index_version,
                    &d.updated_at,
                ],
            )
            .await
            .map_err(err)?;
        Ok(())
    }

    async fn documents(&self, collection: &str) -> Result<Vec<DocumentRecord>, StoreError> {
        let client = self.pool.get().await.map_err(pool_err)?;
        client
            .query(
                &format!(
                    "SELECT {DOCUMENT_COLUMNS} FROM documents WHERE collection = $1 ORDER BY name"
                ),
                &[&collection],
            )
            .await
            .map_err(err)?
            .iter()
            .map(to_document)
            .collect()
    }
}

#[async_trait::async_trait]
impl ClusterStore for PostgresStore {
    async fn question_points(&self, limit: usize) -> Result<Vec<QuestionPoint>, StoreError> {
        let client = self.pool.get().await.map_err(pool_err)?;
        let rows = client
            .query(
                "SELECT id, question, embedding, created_at FROM (
                   SELECT id, question, embedding, created_at FROM queries
                   WHERE embedding IS NOT NULL ORDER BY id DESC LIMIT $1
                 ) newest ORDER BY id",
                &[&(limit as i64)],
            )
            .await
            .map_err(err)?;
        Ok(rows
            .iter()
            .map(|r| QuestionPoint {
                id: r.get(0),
                text: r.get(1),
                embedding: r.get(2),
                created_at: r.get(3),
            })
            .collect())
    }

    async fn record_clustering(&self, clustering: &Clustering) -> Result<i64, StoreError> {
        let summary = cluster_summary(clustering)?;
        let (ids, clusters): (Vec<i64>, Vec<i32>) = clustering
            .assignments
            .iter()
            .map(|&(id, cluster)| (id, cluster as i32))
            .unzip();
        let mut client = self.pool.get().await.map_err(pool_err)?;
        let tx = client.transaction().await.map_err(err)?;
        let run: i64 = tx
            .query_one(
                "INSERT INTO cluster_runs (created_at, k, silhouette, inertia, summary)
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[
                    &now_ms(),
                    &(clustering.k as i32),
                    &clustering.silhouette,
                    &clustering.inertia,
                    &tokio_postgres::types::Json(summary),
                ],
            )
            .await
            .map_err(err)?
            .get(0);
        // One statement for all the assignments: a round trip each would take seconds for 10,000.
        tx.execute(
            "UPDATE queries q SET cluster_run = $1, cluster = a.c
             FROM unnest($2::bigint[], $3::int[]) AS a(id, c) WHERE q.id = a.id",
            &[&run, &ids, &clusters],
        )
        .await
        .map_err(err)?;
        tx.commit().await.map_err(err)?;
        Ok(run)
    }

    async fn latest_clustering(&self) -> Result<Option<ClusterRun>, StoreError> {
        let client = self.pool.get().await.map_err(pool_err)?;
        client
            .query_opt(
                "SELECT id, created_at, summary FROM cluster_runs ORDER BY id DESC LIMIT 1",
                &[],
            )
            .await
            .map_err(err)?
            .map(|r| {
                let summary: tokio_postgres::types::Json<serde_json::Value> = r.get(2);
                Ok(ClusterRun {
                    id: r.get(0),
                    created_at: r.get(1),
                    clustering: serde_json::from_value(summary.0)
                        .map_err(|e| StoreError::Invalid(e.to_string()))?,
                })
            })
            .transpose()
    }

    async fn cluster_members(&self, run: i64) -> Result<Vec<(usize, i64)>, StoreError> {
        let client = self.pool.get().await.map_err(pool_err)?;
        let rows = client
            .query(
                "SELECT cluster, created_at FROM queries
                 WHERE cluster_run = $1 AND cluster IS NOT NULL ORDER BY id",
                &[&run],
            )
            .await
            .map_err(err)?;
        Ok(rows
            .iter()
            .map(|r| (r.get::<_, i32>(0) as usize, r.get(1)))
            .collect())
    }
}

#[async_trait::async_trait]
impl Store for PostgresStore {
    async fn ping(&self) -> Result<(), StoreError> {
        let client = self.pool.get().await.map_err(pool_err)?;
        client.execute("SELECT 1", &[]).await.map_err(err)?;
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "postgres"
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support as support;
    use super::*;

    #[tokio::test]
    async fn conformance() {
        let Some(db) = support::ScratchDb::create("store") else {
            return;
        };
        let store = PostgresStore::connect(&db.url).await.expect("connect");
        super::super::conformance::run(&store).await;
        // Connecting again finds the schema in place and keeps the data.
        let again = PostgresStore::connect(&db.url).await.expect("reconnect");
        assert_eq!(again.count_queries().await.expect("count"), 13);
    }
}
