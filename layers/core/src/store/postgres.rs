//! The PostgreSQL store: a connection pool (deadpool-postgres), versioned migrations applied at
//! start-up under an advisory lock, parameterised statements only.

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;

use super::{
    ClusterRef, ClusterRun, ClusterStore, DocumentRecord, DocumentStatus, DocumentStore, Feedback,
    NewQuery, NewUser, QueryRecord, QueryStore, Role, Store, StoreError, User, UserStore, now_ms,
    records,
};
use crate::cluster::{Clustering, QuestionPoint};

mod feedback;
mod security;
mod tls;

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
    (
        5,
        include_str!("../../../../infra/migrations/postgres/0005_security.sql"),
    ),
    (
        6,
        include_str!("../../../../infra/migrations/postgres/0006_feedback.sql"),
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

/// The error with its causes: "error performing TLS handshake" alone does not say that the
/// certificate was refused.
fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        message = format!("{message}: {cause}");
        source = cause.source();
    }
    StoreError::Unavailable(message)
}

const USER_COLUMNS: &str = "id, username, password_hash, role, active, created_at";

fn to_user(row: &tokio_postgres::Row) -> Result<User, StoreError> {
    Ok(User {
        id: row.try_get(0).map_err(err)?,
        username: row.try_get(1).map_err(err)?,
        password_hash: row.try_get(2).map_err(err)?,
        role: super::parse_role(row.try_get::<_, &str>(3).map_err(err)?)?,
        active: row.try_get(4).map_err(err)?,
        created_at: row.try_get(5).map_err(err)?,
    })
}

impl PostgresStore {
    /// Connects to `url` (a `postgres://` URL; `sslmode` and `sslrootcert` as libpq reads
    /// them) and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let connection = tls::connection(url)?;
        let recycling = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match connection.tls {
            Some(tls) => Manager::from_config(connection.config, tls, recycling),
            None => Manager::from_config(connection.config, NoTls, recycling),
        };
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
            id: row.try_get(0).map_err(err)?,
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
    async fn record_query(&self, q: NewQuery) -> Result<String, StoreError> {
        let sources = records::sources_to_json(&q.sources)?;
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
        Ok(row.try_get::<_, i64>(0).map_err(err)?.to_string())
    }

    async fn history(
        &self,
        user_id: i64,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<QueryRecord>, StoreError> {
        let before = before.map(records::row_id).transpose()?;
        let client = self.pool.get().await.map_err(pool_err)?;
        let rows = client
            .query(
                "SELECT q.id, q.user_id, q.question, q.answer, q.sources, q.best_score, q.grounded, q.latency_ms, q.index_version, q.created_at, q.generator, q.model, q.embedding, q.cluster_run, q.cluster,
                        f.useful, f.comment, f.at
                 FROM queries q LEFT JOIN feedback f ON f.query_id = q.id
                 WHERE q.user_id = $1 AND q.id < $2 ORDER BY q.id DESC LIMIT $3",
                &[&user_id, &before.unwrap_or(i64::MAX), &(limit as i64)],
            )
            .await
            .map_err(err)?;
        rows.iter()
            .map(|r| {
                let sources: tokio_postgres::types::Json<serde_json::Value> =
                    r.try_get(4).map_err(err)?;
                Ok(QueryRecord {
                    id: r.try_get::<_, i64>(0).map_err(err)?.to_string(),
                    created_at: r.try_get(9).map_err(err)?,
                    query: NewQuery {
                        user_id: r.try_get(1).map_err(err)?,
                        question: r.try_get(2).map_err(err)?,
                        answer: r.try_get(3).map_err(err)?,
                        sources: records::sources_from_json(sources.0)?,
                        best_score: r.try_get(5).map_err(err)?,
                        grounded: r.try_get(6).map_err(err)?,
                        latency_ms: r.try_get(7).map_err(err)?,
                        index_version: r.try_get(8).map_err(err)?,
                        generator: r.try_get(10).map_err(err)?,
                        model: r.try_get(11).map_err(err)?,
                        embedding: r.try_get(12).map_err(err)?,
                        cluster: cluster_ref(
                            r.try_get(13).map_err(err)?,
                            r.try_get(14).map_err(err)?,
                        ),
                    },
                    feedback: r
                        .try_get::<_, Option<bool>>(15)
                        .map_err(err)?
                        .zip(r.try_get::<_, Option<i64>>(17).map_err(err)?)
                        .map(|(useful, at)| -> Result<Feedback, StoreError> {
                            Ok(Feedback {
                                useful,
                                comment: r.try_get(16).map_err(err)?,
                                at,
                            })
                        })
                        .transpose()?,
                })
            })
            .collect()
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
        collection: row.try_get(0).map_err(err)?,
        name: row.try_get(1).map_err(err)?,
        status: DocumentStatus::parse(row.try_get::<_, &str>(2).map_err(err)?)?,
        reason: row.try_get(3).map_err(err)?,
        sha256: row.try_get(4).map_err(err)?,
        pages: row.try_get::<_, i32>(5).map_err(err)? as u32,
        chunks: row.try_get::<_, i32>(6).map_err(err)? as u32,
        index_version: row.try_get(7).map_err(err)?,
        updated_at: row.try_get(8).map_err(err)?,
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
        rows.iter()
            .map(|r| {
                Ok(QuestionPoint {
                    id: r.try_get::<_, i64>(0).map_err(err)?.to_string(),
                    text: r.try_get(1).map_err(err)?,
                    embedding: r.try_get(2).map_err(err)?,
                    created_at: r.try_get(3).map_err(err)?,
                })
            })
            .collect()
    }

    async fn record_clustering(&self, clustering: &Clustering) -> Result<i64, StoreError> {
        let summary = records::clustering_to_json(clustering)?;
        let mut ids = Vec::with_capacity(clustering.assignments.len());
        let mut clusters = Vec::with_capacity(clustering.assignments.len());
        for (id, cluster) in &clustering.assignments {
            ids.push(records::row_id(id)?);
            clusters.push(*cluster as i32);
        }
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
            .try_get(0)
            .map_err(err)?;
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
                let summary: tokio_postgres::types::Json<serde_json::Value> =
                    r.try_get(2).map_err(err)?;
                Ok(ClusterRun {
                    id: r.try_get(0).map_err(err)?,
                    created_at: r.try_get(1).map_err(err)?,
                    clustering: records::clustering_from_json(summary.0)?,
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
        rows.iter()
            .map(|r| {
                let cluster: i32 = r.try_get(0).map_err(err)?;
                Ok((cluster as usize, r.try_get(1).map_err(err)?))
            })
            .collect()
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
        assert_eq!(super::super::conformance::recorded(&again).await, 13);
    }

    async fn encrypted(store: &PostgresStore) -> bool {
        let client = store.pool.get().await.expect("connection");
        client
            .query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .await
            .expect("pg_stat_ssl")
            .try_get(0)
            .expect("bool")
    }

    #[tokio::test]
    async fn sslmode_encrypts_or_refuses_an_unverified_server() {
        let Some(db) = support::ScratchDb::create("tls") else {
            return;
        };
        let plain = PostgresStore::connect(&db.url).await.expect("connect");
        let client = plain.pool.get().await.expect("connection");
        let ssl: String = client
            .query_one("SHOW ssl", &[])
            .await
            .expect("show ssl")
            .try_get(0)
            .expect("text");
        assert_eq!(
            ssl, "on",
            "the test server must offer TLS (Debian's default)"
        );
        assert!(!encrypted(&plain).await, "no sslmode: plain, as before");

        let required = PostgresStore::connect(&format!("{}?sslmode=require", db.url))
            .await
            .expect("sslmode=require");
        assert!(encrypted(&required).await);
        required.ping().await.expect("queries over TLS");

        // The server's certificate is self-signed: authenticating it must fail, clearly.
        match PostgresStore::connect(&format!("{}?sslmode=verify-full", db.url)).await {
            Err(StoreError::Unavailable(reason)) => {
                assert!(reason.to_lowercase().contains("certificate"), "{reason}")
            }
            Ok(_) => panic!("a self-signed certificate was accepted by verify-full"),
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
}
