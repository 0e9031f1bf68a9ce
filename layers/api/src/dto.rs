//! Wire types of the HTTP API (documented in the OpenAPI description), converted from the
//! domain types.

use axum::http::StatusCode;
use rag_core::cluster::Bucket;
use rag_core::cluster::runs::Topics;
use rag_core::collection::VersionInfo;
use rag_core::query::Source;
use rag_core::store::{
    AuditEntry, DocumentRecord, DocumentStatus, Feedback, QueryRecord, Role, User,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

pub use rag_contract::{LoginRequest, QueryRequest};

#[derive(Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    pub token: String,
    /// Always "Bearer".
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
}

/// A cited page.
#[derive(Serialize, Deserialize, ToSchema, Clone, PartialEq, Debug)]
pub struct SourceDto {
    pub document: String,
    /// Physical page of the PDF, 1-based.
    pub page: u32,
    /// Cosine similarity between question and passage.
    pub score: f32,
    pub excerpt: String,
}

impl From<Source> for SourceDto {
    fn from(s: Source) -> Self {
        SourceDto {
            document: s.document,
            page: s.page,
            score: s.score,
            excerpt: s.excerpt,
        }
    }
}

/// A piece of a streamed answer (`event: token`).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TokenEvent {
    pub text: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct QueryResponse {
    /// Opaque: the store's id of the recorded question.
    pub query_id: String,
    /// The answer with [n] citations of `sources`, or "not in the documentation".
    pub answer: String,
    pub sources: Vec<SourceDto>,
    pub latency_ms: f64,
    pub index_version: String,
    /// False when the documentation does not contain the answer.
    pub grounded: bool,
    /// What wrote the answer: "extractive", "gemini", "openai", or "extractive-fallback" when
    /// the LLM failed.
    pub generator: String,
    /// The LLM's model, when one answered.
    pub model: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// Items per page, 1 to 100 (default 20).
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Another user's history (administrators only).
    pub user: Option<String>,
    /// Only questions containing this text (case and accents ignored). A page may then hold
    /// fewer than `limit` items and still have a `next_cursor`: the search goes on from there.
    pub q: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct HistoryItem {
    pub query_id: String,
    pub question: String,
    pub answer: String,
    pub sources: Vec<SourceDto>,
    pub latency_ms: f64,
    /// What wrote the answer (see `QueryResponse`).
    pub generator: String,
    pub model: Option<String>,
    /// False when the documentation did not contain the answer.
    pub grounded: bool,
    /// Its topic: the cluster of a clustering run (`GET /clusters`), when one has run.
    pub cluster: Option<ClusterDto>,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// What the user said of the answer, if anything.
    pub feedback: Option<FeedbackDto>,
}

/// A user's verdict on an answer.
#[derive(Serialize, Deserialize, ToSchema, Debug, PartialEq)]
pub struct FeedbackDto {
    pub useful: bool,
    pub comment: Option<String>,
    /// RFC 3339, UTC.
    pub at: String,
}

impl From<Feedback> for FeedbackDto {
    fn from(f: Feedback) -> Self {
        FeedbackDto {
            useful: f.useful,
            comment: f.comment,
            at: rfc3339(f.at),
        }
    }
}

/// Feedback on an answer: useful or not, and optionally why (at most 1,000 characters).
#[derive(Deserialize, ToSchema)]
pub struct FeedbackRequest {
    pub useful: bool,
    pub comment: Option<String>,
}

/// The feedback as stored, on the question it is about.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct FeedbackResponse {
    pub query_id: String,
    pub useful: bool,
    pub comment: Option<String>,
    /// RFC 3339, UTC.
    pub at: String,
}

/// A feedback entry for admins.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct FeedbackItem {
    pub query_id: String,
    /// Who asked (absent when the account no longer exists).
    pub username: Option<String>,
    pub question: String,
    pub useful: bool,
    pub comment: Option<String>,
    /// RFC 3339, UTC.
    pub at: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct FeedbackList {
    /// Newest question first.
    pub items: Vec<FeedbackItem>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A published index version.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct VersionDto {
    pub version: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub documents: usize,
    pub chunks: u32,
    /// The version queries are answered from.
    pub current: bool,
}

impl From<VersionInfo> for VersionDto {
    fn from(v: VersionInfo) -> Self {
        VersionDto {
            version: v.version,
            created_at: rfc3339(v.created_at as i64 * 1000),
            documents: v.documents,
            chunks: v.chunks,
            current: v.current,
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct VersionList {
    /// Newest first.
    pub versions: Vec<VersionDto>,
}

/// Which version `CURRENT` should name again.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct RollbackRequest {
    pub version: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct UserList {
    /// By username.
    pub users: Vec<UserResponse>,
}

/// Which page of a document to open (1-based).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DocumentPageParams {
    pub page: Option<u32>,
}

/// A cluster of a clustering run.
#[derive(Serialize, Deserialize, ToSchema, Debug, PartialEq)]
pub struct ClusterDto {
    pub run: i64,
    pub cluster: usize,
}

impl From<QueryRecord> for HistoryItem {
    fn from(r: QueryRecord) -> Self {
        HistoryItem {
            query_id: r.id,
            question: r.query.question,
            answer: r.query.answer,
            sources: r.query.sources.into_iter().map(SourceDto::from).collect(),
            latency_ms: r.query.latency_ms,
            generator: r.query.generator,
            model: r.query.model,
            grounded: r.query.grounded,
            cluster: r.query.cluster.map(|c| ClusterDto {
                run: c.run,
                cluster: c.cluster,
            }),
            created_at: rfc3339(r.created_at),
            feedback: r.feedback.map(FeedbackDto::from),
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct HistoryResponse {
    /// The caller's queries (or `user`'s), newest first.
    pub items: Vec<HistoryItem>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A page request, as `/history` and `/admin/audit` take it: `limit` 1 to 100 (default 20) and
/// the previous page's `next_cursor`.
#[derive(Debug, Clone)]
pub struct Page {
    pub limit: usize,
    /// The previous page's last id, as the store handed it out.
    pub before: Option<String>,
}

impl Page {
    pub const DEFAULT_LIMIT: usize = 20;
    pub const MAX_LIMIT: usize = 100;

    pub fn parse(limit: Option<usize>, cursor: Option<&str>) -> Result<Page, ApiError> {
        let limit = limit.unwrap_or(Self::DEFAULT_LIMIT);
        if !(1..=Self::MAX_LIMIT).contains(&limit) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_limit",
                format!("limit must be between 1 and {}", Self::MAX_LIMIT),
            ));
        }
        Ok(Page {
            limit,
            before: cursor.map(str::to_string),
        })
    }

    /// The cursor of the next page: absent when this page was not full.
    pub fn next_cursor(&self, last_id: Option<&str>, items: usize) -> Option<String> {
        (items == self.limit).then(|| last_id.map(str::to_string))?
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Entries per page, 1 to 100 (default 20).
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One change: who did what to what, and when.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct AuditItem {
    /// Opaque.
    pub id: String,
    /// RFC 3339, UTC.
    pub at: String,
    /// An administrator's username, "bucket event", "cli" or "bootstrap".
    pub actor: String,
    /// `user.create`, `user.activate`, `user.deactivate`, `user.role`, `document.indexed`,
    /// `document.failed`, `document.removed`, `index.publish`, `index.rollback`.
    pub action: String,
    pub target: String,
    pub detail: Option<String>,
}

impl From<AuditEntry> for AuditItem {
    fn from(e: AuditEntry) -> Self {
        AuditItem {
            id: e.id,
            at: rfc3339(e.at),
            actor: e.entry.actor,
            action: e.entry.action,
            target: e.entry.target,
            detail: e.entry.detail,
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct AuditResponse {
    /// Newest first.
    pub entries: Vec<AuditItem>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct HealthResponse {
    /// "ok", or "unavailable" when the store does not answer.
    pub status: String,
    /// True when this process can serve its routes: the store answers and, where it answers
    /// questions, an index version is loaded (false during a cold start's loading).
    pub ready: bool,
    pub version: String,
    /// Index version loaded by this process (absent where no index is needed).
    pub index_version: Option<String>,
    /// Why the latest published version is not the one loaded (a corrupt version, an
    /// unreachable object store); absent when the last check succeeded.
    pub index_error: Option<String>,
    /// "postgres" or "embedded".
    pub store: String,
    /// MLflow runs of this process; absent when tracking is off.
    pub tracking: Option<TrackingHealth>,
}

/// Runs handed to MLflow by this process since it started.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TrackingHealth {
    pub logged: u64,
    /// Dropped because MLflow was down, refused them, or the queue was full.
    pub dropped: u64,
    /// Queued or being logged.
    pub pending: u64,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// File name to store and cite, ending in .pdf.
    pub name: String,
}

/// The latest state of a document.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct DocumentResponse {
    pub name: String,
    /// "indexed", "failed" or "removed".
    #[schema(value_type = String, example = "indexed")]
    pub status: DocumentStatus,
    /// Why it failed, or which pages were skipped.
    pub reason: Option<String>,
    pub sha256: Option<String>,
    pub pages: u32,
    pub chunks: u32,
    pub index_version: Option<String>,
    /// RFC 3339, UTC.
    pub updated_at: String,
}

impl From<DocumentRecord> for DocumentResponse {
    fn from(d: DocumentRecord) -> Self {
        DocumentResponse {
            name: d.name,
            status: d.status,
            reason: d.reason,
            sha256: d.sha256,
            pages: d.pages,
            chunks: d.chunks,
            index_version: d.index_version,
            updated_at: rfc3339(d.updated_at),
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct UploadResponse {
    /// Whether a new index version was published (false: same bytes as before, or failed).
    pub published: bool,
    pub index_version: Option<String>,
    pub documents: Vec<DocumentResponse>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct DocumentList {
    pub documents: Vec<DocumentResponse>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct EventAccepted {
    /// Object keys queued for ingestion or removal.
    pub keys: usize,
}

#[derive(Deserialize, ToSchema)]
pub struct NewUserRequest {
    pub username: String,
    /// At least 8 characters.
    pub password: String,
    /// "user" (default) or "admin".
    #[schema(value_type = Option<String>, example = "user")]
    pub role: Option<Role>,
}

#[derive(Deserialize, ToSchema)]
pub struct UserPatch {
    pub active: Option<bool>,
    /// "user" or "admin".
    #[schema(value_type = Option<String>, example = "admin")]
    pub role: Option<Role>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct UserResponse {
    pub username: String,
    #[schema(value_type = String, example = "user")]
    pub role: Role,
    pub active: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
}

impl From<User> for UserResponse {
    fn from(u: User) -> Self {
        UserResponse {
            username: u.username,
            role: u.role,
            active: u.active,
            created_at: rfc3339(u.created_at),
        }
    }
}

/// Unix epoch milliseconds as RFC 3339 UTC with milliseconds.
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = rag_core::dates::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms.rem_euclid(1000)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_rfc3339() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            super::rfc3339(1_764_079_200_123),
            "2025-11-25T14:00:00.123Z"
        );
        assert_eq!(super::rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClusterRunParams {
    /// Smallest k tried (default 2).
    pub k_min: Option<usize>,
    /// Largest k tried (default 12; capped below the number of questions).
    pub k_max: Option<usize>,
    /// The same seed gives the same clustering (default 42).
    pub seed: Option<u64>,
}

/// A clustering run, as admins read it.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TopicsResponse {
    pub run: i64,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// The number of clusters chosen (best mean silhouette).
    pub k: usize,
    pub silhouette: f32,
    pub inertia: f64,
    /// Every k tried: the elbow curve and its silhouette.
    pub elbow: Vec<KScoreDto>,
    /// Biggest first.
    pub clusters: Vec<TopicDto>,
    /// Questions per cluster (`counts[cluster id]`) per day, oldest first.
    pub per_day: Vec<BucketDto>,
    /// The same per ISO week ("2026-W49").
    pub per_week: Vec<BucketDto>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct KScoreDto {
    pub k: usize,
    pub inertia: f64,
    pub silhouette: f32,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct TopicDto {
    pub id: usize,
    /// Questions in it: those of the run and those asked since.
    pub size: usize,
    /// Its most distinctive words (c-TF-IDF), best first.
    pub terms: Vec<String>,
    /// Its most central questions.
    pub representatives: Vec<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct BucketDto {
    pub period: String,
    pub counts: Vec<usize>,
}

impl From<Topics> for TopicsResponse {
    fn from(t: Topics) -> Self {
        let buckets = |b: Vec<Bucket>| {
            b.into_iter()
                .map(|b| BucketDto {
                    period: b.period,
                    counts: b.counts,
                })
                .collect()
        };
        TopicsResponse {
            run: t.run,
            created_at: rfc3339(t.created_at),
            k: t.k,
            silhouette: t.silhouette,
            inertia: t.inertia,
            elbow: t
                .elbow
                .into_iter()
                .map(|e| KScoreDto {
                    k: e.k,
                    inertia: e.inertia,
                    silhouette: e.silhouette,
                })
                .collect(),
            clusters: t
                .clusters
                .into_iter()
                .map(|c| TopicDto {
                    id: c.id,
                    size: c.size,
                    terms: c.terms,
                    representatives: c.representatives,
                })
                .collect(),
            per_day: buckets(t.per_day),
            per_week: buckets(t.per_week),
        }
    }
}
