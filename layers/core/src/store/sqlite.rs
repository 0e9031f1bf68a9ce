//! The embedded store: one SQLite file under the data directory, no server needed.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{
    ClusterRef, ClusterRun, ClusterStore, DocumentRecord, DocumentStatus, DocumentStore, Feedback,
    NewQuery, NewUser, QueryRecord, QueryStore, Role, Store, StoreError, User, UserStore, now_ms,
    records,
};
use crate::cluster::{Clustering, QuestionPoint};

mod feedback;
mod security;

/// Versioned migrations, applied in order at open.
const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        include_str!("../../../../infra/migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        include_str!("../../../../infra/migrations/sqlite/0002_documents.sql"),
    ),
    (
        3,
        include_str!("../../../../infra/migrations/sqlite/0003_generator.sql"),
    ),
    (
        4,
        include_str!("../../../../infra/migrations/sqlite/0004_clusters.sql"),
    ),
    (
        5,
        include_str!("../../../../infra/migrations/sqlite/0005_security.sql"),
    ),
    (
        6,
        include_str!("../../../../infra/migrations/sqlite/0006_feedback.sql"),
    ),
];

/// SQLite-backed store. Writes are durable on return (WAL, synchronous=FULL).
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

fn err(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(f, msg)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict(msg.unwrap_or_else(|| "row".into()))
        }
        other => StoreError::Unavailable(other.to_string()),
    }
}

fn user_row(row: &Row<'_>) -> rusqlite::Result<(i64, String, String, String, bool, i64)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}

fn to_user(r: (i64, String, String, String, bool, i64)) -> Result<User, StoreError> {
    Ok(User {
        id: r.0,
        username: r.1,
        password_hash: r.2,
        role: super::parse_role(&r.3)?,
        active: r.4,
        created_at: r.5,
    })
}

const USER_COLUMNS: &str = "id, username, password_hash, role, active, created_at";

/// An embedding as stored: little-endian f32s.
fn to_blob(embedding: &[f32]) -> Vec<u8> {
    embedding.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn from_blob(blob: &[u8]) -> Result<Vec<f32>, StoreError> {
    if !blob.len().is_multiple_of(4) {
        return Err(StoreError::Invalid(format!(
            "embedding of {} bytes, not a whole number of f32s",
            blob.len()
        )));
    }
    Ok(blob
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        }
        let mut conn = Connection::open(path).map_err(err)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;
             PRAGMA busy_timeout = 5000;
             CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);",
        )
        .map_err(err)?;
        for &(version, sql) in MIGRATIONS {
            let tx = conn.transaction().map_err(err)?;
            let applied: Option<i64> = tx
                .query_row(
                    "SELECT version FROM schema_migrations WHERE version = ?1",
                    [version],
                    |r| r.get(0),
                )
                .optional()
                .map_err(err)?;
            if applied.is_none() {
                tx.execute_batch(sql).map_err(err)?;
                tx.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                    params![version, now_ms()],
                )
                .map_err(err)?;
            }
            tx.commit().map_err(err)?;
        }
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs blocking database work off the async runtime.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| StoreError::Unavailable("database lock poisoned".into()))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))?
    }
}

#[async_trait::async_trait]
impl UserStore for SqliteStore {
    async fn create_user(&self, user: NewUser) -> Result<User, StoreError> {
        self.with(move |c| {
            let created = now_ms();
            c.execute(
                "INSERT INTO users (username, password_hash, role, active, created_at) VALUES (?1, ?2, ?3, 1, ?4)",
                params![user.username, user.password_hash, user.role.as_str(), created],
            )
            .map_err(|e| match err(e) {
                StoreError::Conflict(_) => StoreError::Conflict(format!("user {}", user.username)),
                other => other,
            })?;
            Ok(User {
                id: c.last_insert_rowid(),
                username: user.username,
                password_hash: user.password_hash,
                role: user.role,
                active: true,
                created_at: created,
            })
        })
        .await
    }

    async fn user(&self, username: &str) -> Result<Option<User>, StoreError> {
        let username = username.to_string();
        self.with(move |c| {
            c.query_row(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE username = ?1"),
                [username],
                user_row,
            )
            .optional()
            .map_err(err)?
            .map(to_user)
            .transpose()
        })
        .await
    }

    async fn users(&self) -> Result<Vec<User>, StoreError> {
        self.with(|c| {
            let mut stmt = c
                .prepare(&format!(
                    "SELECT {USER_COLUMNS} FROM users ORDER BY username"
                ))
                .map_err(err)?;
            let rows = stmt.query_map([], user_row).map_err(err)?;
            rows.map(|r| r.map_err(err).and_then(to_user)).collect()
        })
        .await
    }

    async fn update_user(
        &self,
        username: &str,
        active: Option<bool>,
        role: Option<Role>,
    ) -> Result<Option<User>, StoreError> {
        let username = username.to_string();
        self.with(move |c| {
            let tx = c.transaction().map_err(err)?;
            if let Some(a) = active {
                tx.execute(
                    "UPDATE users SET active = ?1 WHERE username = ?2",
                    params![a, username],
                )
                .map_err(err)?;
            }
            if let Some(r) = role {
                tx.execute(
                    "UPDATE users SET role = ?1 WHERE username = ?2",
                    params![r.as_str(), username],
                )
                .map_err(err)?;
            }
            let user = tx
                .query_row(
                    &format!("SELECT {USER_COLUMNS} FROM users WHERE username = ?1"),
                    [&username],
                    user_row,
                )
                .optional()
                .map_err(err)?
                .map(to_user)
                .transpose()?;
            tx.commit().map_err(err)?;
            Ok(user)
        })
        .await
    }
}

#[async_trait::async_trait]
impl QueryStore for SqliteStore {
    async fn record_query(&self, q: NewQuery) -> Result<String, StoreError> {
        let sources = records::sources_to_json(&q.sources)?.to_string();
        self.with(move |c| {
            c.execute(
                "INSERT INTO queries (user_id, question, answer, sources, best_score, grounded, latency_ms, index_version, created_at, generator, model, embedding, cluster_run, cluster)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                params![
                    q.user_id,
                    q.question,
                    q.answer,
                    sources,
                    f64::from(q.best_score),
                    q.grounded,
                    q.latency_ms,
                    q.index_version,
                    now_ms(),
                    q.generator,
                    q.model,
                    q.embedding.as_deref().map(to_blob),
                    q.cluster.map(|c| c.run),
                    q.cluster.map(|c| c.cluster as i64)
                ],
            )
            .map_err(err)?;
            Ok(c.last_insert_rowid().to_string())
        })
        .await
    }

    async fn history(
        &self,
        user_id: i64,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<QueryRecord>, StoreError> {
        let before = before.map(records::row_id).transpose()?;
        self.with(move |c| {
            let mut stmt = c
                .prepare(
                    "SELECT q.id, q.user_id, q.question, q.answer, q.sources, q.best_score, q.grounded, q.latency_ms, q.index_version, q.created_at, q.generator, q.model, q.embedding, q.cluster_run, q.cluster,
                            f.useful, f.comment, f.at
                     FROM queries q LEFT JOIN feedback f ON f.query_id = q.id
                     WHERE q.user_id = ?1 AND q.id < ?2 ORDER BY q.id DESC LIMIT ?3",
                )
                .map_err(err)?;
            let rows = stmt
                .query_map(
                    params![user_id, before.unwrap_or(i64::MAX), limit as i64],
                    |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, String>(3)?,
                            r.get::<_, String>(4)?,
                            r.get::<_, f64>(5)?,
                            r.get::<_, bool>(6)?,
                            r.get::<_, f64>(7)?,
                            r.get::<_, String>(8)?,
                            r.get::<_, i64>(9)?,
                            r.get::<_, String>(10)?,
                            r.get::<_, Option<String>>(11)?,
                            r.get::<_, Option<Vec<u8>>>(12)?,
                            r.get::<_, Option<i64>>(13)?,
                            r.get::<_, Option<i64>>(14)?,
                            r.get::<_, Option<bool>>(15)?
                                .zip(r.get::<_, Option<i64>>(17)?)
                                .map(|(useful, at)| -> rusqlite::Result<Feedback> {
                                    Ok(Feedback {
                                        useful,
                                        comment: r.get(16)?,
                                        at,
                                    })
                                })
                                .transpose()?,
                        ))
                    },
                )
                .map_err(err)?;
            rows.map(|r| {
                let r = r.map_err(err)?;
                Ok(QueryRecord {
                    id: r.0.to_string(),
                    created_at: r.9,
                    query: NewQuery {
                        user_id: r.1,
                        question: r.2,
                        answer: r.3,
                        sources: records::sources_from_json(
                            serde_json::from_str(&r.4)
                                .map_err(|e| StoreError::Invalid(e.to_string()))?,
                        )?,
                        best_score: r.5 as f32,
                        grounded: r.6,
                        latency_ms: r.7,
                        index_version: r.8,
                        generator: r.10,
                        model: r.11,
                        embedding: r.12.as_deref().map(from_blob).transpose()?,
                        cluster: r.13.zip(r.14).map(|(run, cluster)| ClusterRef {
                            run,
                            cluster: cluster as usize,
                        }),
                    },
                    feedback: r.15,
                })
            })
            .collect()
        })
        .await
    }
}

const DOCUMENT_COLUMNS: &str =
    "collection, name, status, reason, sha256, pages, chunks, index_version, updated_at";

type DocumentRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    u32,
    u32,
    Option<String>,
    i64,
);

fn document_row(r: &Row<'_>) -> rusqlite::Result<DocumentRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

fn to_document(r: DocumentRow) -> Result<DocumentRecord, StoreError> {
    Ok(DocumentRecord {
        collection: r.0,
        name: r.1,
        status: DocumentStatus::parse(&r.2)?,
        reason: r.3,
        sha256: r.4,
        pages: r.5,
        chunks: r.6,
        index_version: r.7,
        updated_at: r.8,
    })
}

#[async_trait::async_trait]
impl DocumentStore for SqliteStore {
    async fn record_document(&self, d: DocumentRecord) -> Result<(), StoreError> {
        self.with(move |c| {
            c.execute(
                &format!(
                    "INSERT OR REPLACE INTO documents ({DOCUMENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                ),
                params![
                    d.collection,
                    d.name,
                    d.status.as_str(),
                    d.reason,
                    d.sha256,
                    d.pages,
                    d.chunks,
                    d.index_version,
                    d.updated_at
                ],
            )
            .map_err(err)?;
            Ok(())
        })
        .await
    }

    async fn documents(&self, collection: &str) -> Result<Vec<DocumentRecord>, StoreError> {
        let collection = collection.to_string();
        self.with(move |c| {
            let mut stmt = c
                .prepare(&format!(
                    "SELECT {DOCUMENT_COLUMNS} FROM documents WHERE collection = ?1 ORDER BY name"
                ))
                .map_err(err)?;
            let rows = stmt.query_map([collection], document_row).map_err(err)?;
            rows.map(|r| r.map_err(err).and_then(to_document)).collect()
        })
        .await
    }
}

#[async_trait::async_trait]
impl ClusterStore for SqliteStore {
    async fn question_points(&self, limit: usize) -> Result<Vec<QuestionPoint>, StoreError> {
        self.with(move |c| {
            let mut stmt = c
                .prepare(
                    "SELECT id, question, embedding, created_at FROM (
                       SELECT id, question, embedding, created_at FROM queries
                       WHERE embedding IS NOT NULL ORDER BY id DESC LIMIT ?1
                     ) ORDER BY id",
                )
                .map_err(err)?;
            let rows = stmt
                .query_map([limit as i64], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Vec<u8>>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                })
                .map_err(err)?;
            rows.map(|r| {
                let (id, text, embedding, created_at) = r.map_err(err)?;
                Ok(QuestionPoint {
                    id: id.to_string(),
                    text,
                    embedding: from_blob(&embedding)?,
                    created_at,
                })
            })
            .collect()
        })
        .await
    }

    async fn record_clustering(&self, clustering: &Clustering) -> Result<i64, StoreError> {
        let summary = records::clustering_to_json(clustering)?.to_string();
        let (k, silhouette, inertia) = (clustering.k, clustering.silhouette, clustering.inertia);
        let assignments = clustering.assignments.clone();
        self.with(move |c| {
            let tx = c.transaction().map_err(err)?;
            tx.execute(
                "INSERT INTO cluster_runs (created_at, k, silhouette, inertia, summary) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![now_ms(), k as i64, f64::from(silhouette), inertia, summary],
            )
            .map_err(err)?;
            let run = tx.last_insert_rowid();
            {
                let mut assign = tx
                    .prepare("UPDATE queries SET cluster_run = ?1, cluster = ?2 WHERE id = ?3")
                    .map_err(err)?;
                for (id, cluster) in assignments {
                    assign
                        .execute(params![run, cluster as i64, records::row_id(&id)?])
                        .map_err(err)?;
                }
            }
            tx.commit().map_err(err)?;
            Ok(run)
        })
        .await
    }

    async fn latest_clustering(&self) -> Result<Option<ClusterRun>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT id, created_at, summary FROM cluster_runs ORDER BY id DESC LIMIT 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                },
            )
            .optional()
            .map_err(err)?
            .map(|(id, created_at, summary)| {
                Ok(ClusterRun {
                    id,
                    created_at,
                    clustering: records::clustering_from_json(
                        serde_json::from_str(&summary)
                            .map_err(|e| StoreError::Invalid(e.to_string()))?,
                    )?,
                })
            })
            .transpose()
        })
        .await
    }

    async fn cluster_members(&self, run: i64) -> Result<Vec<(usize, i64)>, StoreError> {
        self.with(move |c| {
            let mut stmt = c
                .prepare(
                    "SELECT cluster, created_at FROM queries
                     WHERE cluster_run = ?1 AND cluster IS NOT NULL ORDER BY id",
                )
                .map_err(err)?;
            let rows = stmt
                .query_map([run], |r| {
                    Ok((r.get::<_, i64>(0)? as usize, r.get::<_, i64>(1)?))
                })
                .map_err(err)?;
            rows.map(|r| r.map_err(err)).collect()
        })
        .await
    }
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.with(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(err))
            .await
    }

    fn kind(&self) -> &'static str {
        "embedded"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn conformance() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("rag.db")).expect("open");
        super::super::conformance::run(&store).await;
        // Reopening keeps the data and does not re-apply migrations.
        drop(store);
        let again = SqliteStore::open(&dir.path().join("rag.db")).expect("reopen");
        assert_eq!(super::super::conformance::recorded(&again).await, 13);
    }
}
