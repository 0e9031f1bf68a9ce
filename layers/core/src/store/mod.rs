//! Users, question history and document states: the store traits and their adapters (PostgreSQL,
//! DynamoDB, and an embedded SQLite file as the no-setup default). All run the same conformance tests.
//!
//! The contract is one every store can keep: query and audit ids are opaque strings (a row id in
//! SQL, a time-ordered key in DynamoDB), uniqueness comes from the store's own conditional write,
//! no request path counts by scanning, and a clustering run becomes visible all at once.

mod dynamo;
mod postgres;
mod records;
mod sqlite;
#[cfg(test)]
#[path = "../../../../tests/support/mod.rs"]
mod test_support;

use serde::{Deserialize, Serialize};

pub use dynamo::DynamoStore;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

use crate::cluster::{Clustering, QuestionPoint};
use crate::query::Source;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} already exists")]
    Conflict(String),
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("store data invalid: {0}")]
    Invalid(String),
    /// A page cursor this store did not hand out.
    #[error("invalid cursor")]
    BadCursor,
}

/// What an account may do (shared with the edge, which reads it from tokens).
pub use rag_contract::Role;

/// A role as stored.
pub fn parse_role(s: &str) -> Result<Role, StoreError> {
    Role::parse(s).ok_or_else(|| StoreError::Invalid(format!("unknown role {s:?}")))
}

/// A stored account.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub active: bool,
    /// Unix epoch milliseconds.
    pub created_at: i64,
}

/// An account to create (the password already hashed).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub password_hash: String,
    pub role: Role,
}

/// A question to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewQuery {
    pub user_id: i64,
    pub question: String,
    pub answer: String,
    pub sources: Vec<Source>,
    pub best_score: f32,
    pub grounded: bool,
    pub latency_ms: f64,
    pub index_version: String,
    /// What wrote the answer ("extractive", "gemini", "openai", "extractive-fallback").
    pub generator: String,
    /// The LLM's model, when one answered.
    pub model: Option<String>,
    /// The question's embedding by the primary model, for clustering.
    pub embedding: Option<Vec<f32>>,
    /// The nearest centroid of the latest clustering when the question was asked.
    pub cluster: Option<ClusterRef>,
}

/// A cluster of one clustering run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterRef {
    pub run: i64,
    pub cluster: usize,
}

/// A stored clustering.
#[derive(Debug, Clone)]
pub struct ClusterRun {
    pub id: i64,
    /// Unix epoch milliseconds.
    pub created_at: i64,
    /// The summary: `assignments` is empty, they are stored per question.
    pub clustering: Clustering,
}

/// A recorded question: what was recorded, with its id and time.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryRecord {
    /// Opaque, and the history cursor after this question.
    pub id: String,
    /// Unix epoch milliseconds.
    pub created_at: i64,
    pub query: NewQuery,
    /// What the user said of the answer, if anything.
    pub feedback: Option<Feedback>,
}

/// A user's verdict on an answer, so that admins see which answers fail people.
#[derive(Debug, Clone, PartialEq)]
pub struct Feedback {
    pub useful: bool,
    pub comment: Option<String>,
    /// Unix epoch milliseconds.
    pub at: i64,
}

/// Feedback with the question it is about, for admins.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackRecord {
    /// The question's id, and the page cursor after this entry.
    pub query_id: String,
    pub user_id: i64,
    pub question: String,
    pub feedback: Feedback,
}

/// Where a document stands in a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentStatus {
    Indexed,
    /// Could not be ingested; the collection kept its previous state of the document.
    Failed,
    Removed,
}

impl DocumentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentStatus::Indexed => "indexed",
            DocumentStatus::Failed => "failed",
            DocumentStatus::Removed => "removed",
        }
    }

    pub fn parse(s: &str) -> Result<DocumentStatus, StoreError> {
        match s {
            "indexed" => Ok(DocumentStatus::Indexed),
            "failed" => Ok(DocumentStatus::Failed),
            "removed" => Ok(DocumentStatus::Removed),
            other => Err(StoreError::Invalid(format!(
                "unknown document status {other:?}"
            ))),
        }
    }
}

/// The latest outcome of ingesting one document of a collection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentRecord {
    pub collection: String,
    /// File name, as cited.
    pub name: String,
    pub status: DocumentStatus,
    /// Why it failed, or which pages were skipped.
    pub reason: Option<String>,
    pub sha256: Option<String>,
    pub pages: u32,
    pub chunks: u32,
    /// The index version that holds this state.
    pub index_version: Option<String>,
    /// Unix epoch milliseconds.
    pub updated_at: i64,
}

/// Accounts.
#[async_trait::async_trait]
pub trait UserStore: Send + Sync {
    /// Creates an account; `Conflict` when the username is taken.
    async fn create_user(&self, user: NewUser) -> Result<User, StoreError>;
    async fn user(&self, username: &str) -> Result<Option<User>, StoreError>;
    async fn users(&self) -> Result<Vec<User>, StoreError>;
    /// Updates an account's active flag and/or role; `None` when it does not exist.
    async fn update_user(
        &self,
        username: &str,
        active: Option<bool>,
        role: Option<Role>,
    ) -> Result<Option<User>, StoreError>;
}

/// Question history.
#[async_trait::async_trait]
pub trait QueryStore: Send + Sync {
    /// Records a question durably and returns its id.
    async fn record_query(&self, query: NewQuery) -> Result<String, StoreError>;
    /// A user's queries, newest first; after the query whose id is `before` when given
    /// (`BadCursor` when it is not one of this store's ids).
    async fn history(
        &self,
        user_id: i64,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<QueryRecord>, StoreError>;
}

/// Users' verdicts on answers.
#[async_trait::async_trait]
pub trait FeedbackStore: Send + Sync {
    /// Sets (or replaces) the feedback on question `query_id`; `false`, storing nothing, when
    /// that question is not `user_id`'s (or not one of this store's ids).
    async fn record_feedback(
        &self,
        user_id: i64,
        query_id: &str,
        feedback: Feedback,
    ) -> Result<bool, StoreError>;
    /// Feedback on every user's questions, newest question first; after the question whose id
    /// is `before` when given.
    async fn feedback(
        &self,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<FeedbackRecord>, StoreError>;
}

/// Document states, for admins: what was ingested, what failed and why.
#[async_trait::async_trait]
pub trait DocumentStore: Send + Sync {
    /// Records the latest state of a document, replacing the previous one.
    async fn record_document(&self, document: DocumentRecord) -> Result<(), StoreError>;
    /// A collection's documents, by name.
    async fn documents(&self, collection: &str) -> Result<Vec<DocumentRecord>, StoreError>;
}

/// Clusterings of the recorded questions, for the topics admins see.
#[async_trait::async_trait]
pub trait ClusterStore: Send + Sync {
    /// The newest `limit` recorded questions that have an embedding, oldest first.
    async fn question_points(&self, limit: usize) -> Result<Vec<QuestionPoint>, StoreError>;
    /// Stores a clustering and assigns each question of its `assignments` to its cluster; returns
    /// the run id. Readers see all of it or none of it: `latest_clustering`, `cluster_members`
    /// and `history` show the run only once every assignment is stored (one transaction in SQL,
    /// a header written last in DynamoDB).
    async fn record_clustering(&self, clustering: &Clustering) -> Result<i64, StoreError>;
    /// The latest run, if any.
    async fn latest_clustering(&self) -> Result<Option<ClusterRun>, StoreError>;
    /// (cluster, created_at ms) of every question assigned to a cluster of run `run` — by the run
    /// itself or at query time since — oldest first, for trends.
    async fn cluster_members(&self, run: i64) -> Result<Vec<(usize, i64)>, StoreError>;
}

/// Failed logins, kept in the store so that every process (each Lambda function too) counts
/// the same attempts. A key names what is throttled: an account or a client address.
#[async_trait::async_trait]
pub trait AttemptStore: Send + Sync {
    /// Records one failure for each key at `at` (ms), and forgets these keys' failures before
    /// `forget_before`, so the store holds about one window's worth (a store may forget other
    /// keys' too: readers always pass the window's start as `since`).
    async fn record_failures(
        &self,
        keys: &[String],
        at: i64,
        forget_before: i64,
    ) -> Result<(), StoreError>;
    /// How many failures `key` has since `since` (ms), and when the oldest of them was.
    async fn failures(&self, key: &str, since: i64) -> Result<(u32, Option<i64>), StoreError>;
    /// Forgets `key`'s failures (after a successful login).
    async fn clear_failures(&self, key: &str) -> Result<(), StoreError>;
}

/// A change to record in the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewAuditEntry {
    /// The administrator's username, or who else acted: "bucket event", "cli".
    pub actor: String,
    /// What was done, e.g. `user.deactivate`, `document.remove`, `index.publish`.
    pub action: String,
    /// What it was done to: a username, a document name, an index version.
    pub target: String,
    pub detail: Option<String>,
}

/// A recorded change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Opaque, and the page cursor after this entry.
    pub id: String,
    /// Unix epoch milliseconds.
    pub at: i64,
    pub entry: NewAuditEntry,
}

/// The audit trail: who changed accounts, documents and the index, and when.
#[async_trait::async_trait]
pub trait AuditStore: Send + Sync {
    async fn record_audit(&self, entry: NewAuditEntry) -> Result<(), StoreError>;
    /// Newest first; after the entry whose id is `before` when given.
    async fn audit(
        &self,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<AuditEntry>, StoreError>;
}

/// Everything the service needs from its database.
#[async_trait::async_trait]
pub trait Store:
    UserStore + QueryStore + FeedbackStore + DocumentStore + ClusterStore + AttemptStore + AuditStore
{
    /// A cheap round trip, for health checks.
    async fn ping(&self) -> Result<(), StoreError>;
    /// "postgres", "dynamodb" or "embedded", for /health.
    fn kind(&self) -> &'static str;
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
pub(crate) mod conformance {
    //! The behaviour every store must have.

    use super::*;
    use crate::cluster::{Cluster, KScore};

    pub fn user(name: &str) -> NewUser {
        NewUser {
            username: name.into(),
            password_hash: "$argon2id$fake".into(),
            role: Role::User,
        }
    }

    pub fn query(user_id: i64, n: usize) -> NewQuery {
        NewQuery {
            user_id,
            question: format!("question {n} — réseau?"),
            answer: format!("answer {n}"),
            sources: vec![Source {
                document: "doc.pdf".into(),
                page: n as u32 + 1,
                score: 0.9,
                excerpt: "extrait « cité »".into(),
            }],
            best_score: 0.9,
            grounded: n.is_multiple_of(2),
            latency_ms: 12.5,
            index_version: "abc123".into(),
            generator: if n == 4 { "gemini" } else { "extractive" }.into(),
            model: (n == 4).then(|| "gemini-flash-latest".into()),
            // Extremes of f32 (subnormal, max, negative zero), to check they are stored exactly.
            embedding: (n == 4).then(|| vec![0.1, -1.0 / 3.0, f32::MAX, 1e-45, -0.0]),
            cluster: (n == 4).then_some(ClusterRef {
                run: 1_000,
                cluster: 3,
            }),
        }
    }

    /// Every recorded question of the suite's users, read page by page.
    pub async fn recorded(store: &dyn Store) -> usize {
        let mut total = 0;
        for name in ["alice", "bob", "carol"] {
            let Some(user) = store.user(name).await.expect("user") else {
                continue;
            };
            let mut before: Option<String> = None;
            loop {
                let page = store
                    .history(user.id, 4, before.as_deref())
                    .await
                    .expect("history");
                total += page.len();
                match page.last() {
                    Some(last) if page.len() == 4 => before = Some(last.id.clone()),
                    _ => break,
                }
            }
        }
        total
    }

    pub async fn run(store: &dyn Store) {
        store.ping().await.expect("ping");

        let alice = store
            .create_user(user("alice"))
            .await
            .expect("create alice");
        assert_eq!(alice.username, "alice");
        assert!(alice.active);
        assert_eq!(alice.role, Role::User);
        assert!(matches!(
            store.create_user(user("alice")).await,
            Err(StoreError::Conflict(_))
        ));
        let bob = store.create_user(user("bob")).await.expect("create bob");
        assert_ne!(alice.id, bob.id);
        assert_eq!(store.user("alice").await.expect("get"), Some(alice.clone()));
        assert_eq!(store.user("nobody").await.expect("get"), None);
        // A login or an admin path may carry any name: one too long to be stored is not found.
        let huge = "é".repeat(3_000);
        assert_eq!(store.user(&huge).await.expect("get"), None);
        assert_eq!(
            store
                .update_user(&huge, Some(false), None)
                .await
                .expect("update"),
            None
        );
        let names: Vec<String> = store
            .users()
            .await
            .expect("list")
            .into_iter()
            .map(|u| u.username)
            .collect();
        assert_eq!(names, ["alice", "bob"]);

        let off = store
            .update_user("bob", Some(false), Some(Role::Admin))
            .await
            .expect("update")
            .expect("bob exists");
        assert!(!off.active && off.role == Role::Admin);
        assert_eq!(
            store
                .update_user("nobody", Some(false), None)
                .await
                .expect("update"),
            None
        );

        for n in 0..5 {
            store
                .record_query(query(alice.id, n))
                .await
                .expect("record");
        }
        store.record_query(query(bob.id, 99)).await.expect("record");

        let page1 = store.history(alice.id, 3, None).await.expect("history");
        assert_eq!(page1.len(), 3);
        assert!(page1.iter().all(|q| q.query.user_id == alice.id));
        assert_eq!(page1[0].query, query(alice.id, 4), "stored as recorded");
        let questions = |page: &[QueryRecord]| -> Vec<String> {
            page.iter().map(|q| q.query.question.clone()).collect()
        };
        assert_eq!(
            questions(&page1),
            [4, 3, 2].map(|n| query(0, n).question),
            "newest first"
        );
        assert!(page1[0].query.grounded && !page1[1].query.grounded);
        let page2 = store
            .history(alice.id, 3, Some(&page1[2].id))
            .await
            .expect("history");
        assert_eq!(questions(&page2), [1, 0].map(|n| query(0, n).question));
        assert!(
            store
                .history(alice.id, 3, Some(&page2[1].id))
                .await
                .expect("history")
                .is_empty()
        );
        for bad in ["", "not a cursor", "-1", "\u{0}"] {
            assert!(
                matches!(
                    store.history(alice.id, 3, Some(bad)).await,
                    Err(StoreError::BadCursor)
                ),
                "cursor {bad:?}"
            );
        }
        assert!(
            store
                .history(bob.id, 10, None)
                .await
                .expect("history")
                .len()
                == 1
        );
        assert!(page1[0].created_at > 1_700_000_000_000);
        assert_eq!(recorded(store).await, 6);
        feedback(store, &alice, &bob).await;

        documents(store).await;
        clusters(store).await;
        attempts(store).await;
        audit(store).await;
    }

    async fn feedback(store: &dyn Store, alice: &User, bob: &User) {
        let verdict = |useful, comment: Option<&str>, at| Feedback {
            useful,
            comment: comment.map(str::to_string),
            at,
        };
        let mine = store.history(alice.id, 3, None).await.expect("history");
        let give = |user: &User, id: &str, feedback: Feedback| {
            let (user, id) = (user.id, id.to_string());
            async move {
                store
                    .record_feedback(user, &id, feedback)
                    .await
                    .expect("feedback")
            }
        };
        assert!(
            give(
                alice,
                &mine[0].id,
                verdict(false, Some("étapes « manquantes »"), 5_000)
            )
            .await
        );
        assert!(give(alice, &mine[1].id, verdict(true, Some("clair"), 6_000)).await);
        // Given again: replaced (the comment too), not added.
        assert!(give(alice, &mine[0].id, verdict(true, None, 7_000)).await);
        // Someone else's question, or no question at all: nothing is stored.
        let bobs = store.history(bob.id, 1, None).await.expect("history");
        for id in [&mine[0].id, &bobs[0].id, "", "not an id", "-1", "999999999"] {
            let user = if id == bobs[0].id { alice } else { bob };
            assert!(
                !give(user, id, verdict(false, None, 8_000)).await,
                "feedback on {id:?}"
            );
        }
        let page = store.history(alice.id, 3, None).await.expect("history");
        assert_eq!(page[0].feedback, Some(verdict(true, None, 7_000)));
        assert_eq!(page[1].feedback, Some(verdict(true, Some("clair"), 6_000)));
        assert_eq!(page[2].feedback, None);

        let listed = store.feedback(10, None).await.expect("list");
        let ids = |l: &[FeedbackRecord]| l.iter().map(|f| f.query_id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&listed), [mine[0].id.clone(), mine[1].id.clone()]);
        assert_eq!(
            listed[0],
            FeedbackRecord {
                query_id: mine[0].id.clone(),
                user_id: alice.id,
                question: mine[0].query.question.clone(),
                feedback: verdict(true, None, 7_000),
            }
        );
        let rest = store
            .feedback(1, Some(&listed[0].query_id))
            .await
            .expect("list");
        assert_eq!(ids(&rest), [mine[1].id.clone()]);
        assert!(matches!(
            store.feedback(1, Some("not a cursor")).await,
            Err(StoreError::BadCursor)
        ));
    }

    async fn attempts(store: &dyn Store) {
        assert_eq!(
            store.failures("user:eve", 0).await.expect("count"),
            (0, None)
        );
        let keys = ["user:eve".to_string(), "addr:10.0.0.1".to_string()];
        for at in [1_000, 2_000, 3_000] {
            store.record_failures(&keys, at, 0).await.expect("record");
        }
        assert_eq!(
            store.failures("user:eve", 0).await.expect("count"),
            (3, Some(1_000))
        );
        assert_eq!(
            store.failures("addr:10.0.0.1", 1_500).await.expect("count"),
            (2, Some(2_000)),
            "only the window counts"
        );
        // Recording forgets what is older than the window.
        store
            .record_failures(&keys[1..], 4_000, 2_500)
            .await
            .expect("record");
        assert_eq!(
            store.failures("addr:10.0.0.1", 0).await.expect("count"),
            (2, Some(3_000))
        );
        assert_eq!(
            store.failures("user:eve", 2_500).await.expect("count"),
            (1, Some(3_000))
        );
        store.clear_failures("user:eve").await.expect("clear");
        assert_eq!(
            store.failures("user:eve", 0).await.expect("count"),
            (0, None)
        );
        assert_eq!(
            store.failures("addr:10.0.0.1", 2_500).await.expect("count"),
            (2, Some(3_000))
        );
    }

    async fn audit(store: &dyn Store) {
        assert!(store.audit(10, None).await.expect("list").is_empty());
        let entry = |n: usize| NewAuditEntry {
            actor: if n == 0 { "bucket event" } else { "admin" }.into(),
            action: "document.remove".into(),
            target: format!("guide-{n} « réseau ».pdf"),
            detail: (n == 2).then(|| "index version abc".into()),
        };
        for n in 0..3 {
            store.record_audit(entry(n)).await.expect("record");
        }
        let page = store.audit(2, None).await.expect("list");
        assert_eq!(page.len(), 2);
        assert_eq!(page[0].entry, entry(2), "stored as recorded, newest first");
        assert_eq!(page[1].entry, entry(1));
        assert!(page[0].at >= page[1].at && page[0].at > 1_700_000_000_000);
        let rest = store.audit(10, Some(&page[1].id)).await.expect("list");
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].entry, entry(0));
        assert!(matches!(
            store.audit(10, Some("?")).await,
            Err(StoreError::BadCursor)
        ));
    }

    fn document(name: &str, status: DocumentStatus) -> DocumentRecord {
        DocumentRecord {
            collection: "default".into(),
            name: name.into(),
            status,
            reason: (status == DocumentStatus::Failed).then(|| "no text layer".into()),
            sha256: Some("ab".repeat(32)),
            pages: 12,
            chunks: 40,
            index_version: Some("v1".into()),
            updated_at: 1_764_000_000_000,
        }
    }

    async fn documents(store: &dyn Store) {
        assert!(store.documents("default").await.expect("list").is_empty());
        let guide = document("guide-réseau.pdf", DocumentStatus::Indexed);
        store.record_document(guide.clone()).await.expect("record");
        store
            .record_document(document("scan.pdf", DocumentStatus::Failed))
            .await
            .expect("record");
        let other = DocumentRecord {
            collection: "other".into(),
            ..guide.clone()
        };
        store.record_document(other.clone()).await.expect("record");
        let listed = store.documents("default").await.expect("list");
        assert_eq!(listed[0], guide, "stored as recorded");
        assert_eq!(listed[1].reason.as_deref(), Some("no text layer"));
        assert_eq!(store.documents("other").await.expect("list"), [other]);

        // A later state replaces the earlier one.
        let removed = DocumentRecord {
            status: DocumentStatus::Removed,
            pages: 0,
            chunks: 0,
            index_version: Some("v2".into()),
            ..guide
        };
        store
            .record_document(removed.clone())
            .await
            .expect("record");
        let listed = store.documents("default").await.expect("list");
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0], removed);
    }

    pub fn clustering(k: usize, assignments: Vec<(String, usize)>) -> Clustering {
        Clustering {
            k,
            silhouette: 0.613_f32,
            inertia: 1.0 / 3.0,
            elbow: vec![
                KScore {
                    k: 2,
                    inertia: 2.5,
                    silhouette: 0.5,
                },
                KScore {
                    k: 3,
                    inertia: 1.0 / 3.0,
                    silhouette: 0.613,
                },
            ],
            clusters: (0..k)
                .map(|id| Cluster {
                    id,
                    size: 2,
                    terms: vec![format!("vpn{id}"), "réseau".into()],
                    representatives: vec![format!("question {id} — réseau?")],
                    centroid: vec![0.1 * id as f32, -1.0 / 3.0, 1e-45],
                })
                .collect(),
            assignments,
        }
    }

    async fn clusters(store: &dyn Store) {
        assert!(store.latest_clustering().await.expect("latest").is_none());
        let carol = store.create_user(user("carol")).await.expect("create");
        let mut ids = Vec::new();
        for n in 10..16 {
            let q = NewQuery {
                // Questions 11 and 14 have no embedding (asked before clustering existed).
                embedding: (n != 11 && n != 14).then(|| vec![n as f32, 0.5, -2.0]),
                cluster: None,
                ..query(carol.id, n)
            };
            ids.push(store.record_query(q).await.expect("record"));
        }
        let embedded = [&ids[0], &ids[2], &ids[3], &ids[5]].map(String::clone);

        let newest = store.question_points(3).await.expect("points");
        let newest_ids: Vec<String> = newest.iter().map(|p| p.id.clone()).collect();
        assert_eq!(newest_ids, embedded[1..], "newest three, oldest first");
        assert_eq!(newest[0].text, "question 12 — réseau?");
        assert_eq!(newest[0].embedding, [12.0, 0.5, -2.0]);
        let all = store.question_points(100).await.expect("points");
        assert_eq!(all.len(), 5, "alice's question 4 and carol's four");
        assert_eq!(all[0].embedding, query(0, 4).embedding.unwrap());
        let points = &all[1..];
        assert!(points.iter().all(|p| p.created_at > 1_700_000_000_000));

        let first = clustering(
            2,
            embedded
                .iter()
                .enumerate()
                .map(|(n, id)| (id.clone(), n % 2))
                .collect(),
        );
        let run1 = store.record_clustering(&first).await.expect("record");
        let latest = store
            .latest_clustering()
            .await
            .expect("latest")
            .expect("a run");
        assert_eq!(latest.id, run1);
        assert!(latest.created_at > 1_700_000_000_000);
        let stored = latest.clustering;
        assert_eq!(stored.k, 2);
        assert_eq!(stored.silhouette, first.silhouette);
        assert_eq!(stored.inertia, first.inertia);
        assert_eq!(stored.elbow.len(), 2);
        assert_eq!(stored.elbow[1].inertia, first.elbow[1].inertia);
        assert_eq!(stored.clusters.len(), 2);
        for (s, f) in stored.clusters.iter().zip(&first.clusters) {
            assert_eq!((s.id, s.size), (f.id, f.size));
            assert_eq!(s.terms, f.terms);
            assert_eq!(s.representatives, f.representatives);
            assert_eq!(s.centroid, f.centroid, "centroids stored exactly");
        }
        assert!(
            stored.assignments.is_empty(),
            "assignments are per question"
        );
        let expected: Vec<(usize, i64)> = points
            .iter()
            .enumerate()
            .map(|(n, p)| (n % 2, p.created_at))
            .collect();
        assert_eq!(
            store.cluster_members(run1).await.expect("members"),
            expected
        );

        // A second run becomes the latest and takes over the questions it assigns.
        let second = clustering(3, vec![(embedded[0].clone(), 2)]);
        let run2 = store.record_clustering(&second).await.expect("record");
        assert!(run2 > run1);
        let latest = store
            .latest_clustering()
            .await
            .expect("latest")
            .expect("a run");
        assert_eq!((latest.id, latest.clustering.k), (run2, 3));
        assert_eq!(
            store.cluster_members(run1).await.expect("members"),
            expected[1..]
        );
        assert_eq!(
            store.cluster_members(run2).await.expect("members"),
            [(2, points[0].created_at)]
        );

        // A question placed at query time joins the run's members.
        let placed = NewQuery {
            cluster: Some(ClusterRef {
                run: run2,
                cluster: 0,
            }),
            ..query(carol.id, 20)
        };
        store.record_query(placed.clone()).await.expect("record");
        let recorded = store.history(carol.id, 1, None).await.expect("history");
        assert_eq!(recorded[0].query, placed);
        assert_eq!(
            store.cluster_members(run2).await.expect("members"),
            [(2, points[0].created_at), (0, recorded[0].created_at)]
        );
    }
}
