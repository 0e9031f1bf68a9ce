//! One mapping from domain errors to HTTP: status + `{"error": {"code", "message"}}`.

use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rag_contract::RequestError;
use rag_core::accounts::AuthError;
use rag_core::assistant::AskError;
use rag_core::cluster::ClusterError;
use rag_core::cluster::runs::RunError;
#[cfg(feature = "ingest")]
use rag_core::collection::CollectionError;
#[cfg(feature = "ingest")]
use rag_core::documents::DocumentsError;
use rag_core::feedback::FeedbackError;
use rag_core::query::QueryError;
use rag_core::store::StoreError;
#[cfg(feature = "ingest")]
use rag_core::update::UpdateError;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Sent with the answer: `Retry-After` for 429, `WWW-Authenticate` for a webhook's 401.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

pub use rag_contract::{ErrorBody, ErrorDetail};

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    /// The same answer with one more header.
    pub fn with_header(mut self, name: HeaderName, value: impl ToString) -> Self {
        if let Ok(value) = HeaderValue::from_str(&value.to_string()) {
            self.headers.push((name, value));
        }
        self
    }

    pub fn not_found() -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
    }
}

impl ApiError {
    /// The JSON body, also sent as the last event of a stream that failed. A server error's
    /// message can name hosts, paths or database details: it goes to the log under a request
    /// id, and the caller gets that id to quote instead.
    pub fn body(self) -> ErrorBody {
        let message = if self.status.is_server_error() {
            let request_id = request_id();
            tracing::warn!(code = self.code, message = %self.message, %request_id, "request failed");
            format!(
                "{} (request id {request_id})",
                self.status.canonical_reason().unwrap_or("server error")
            )
        } else {
            self.message
        };
        ErrorBody::new(self.code, message)
    }
}

/// A short random id that ties an error answer to its log line.
fn request_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded from the OS once per process and differs per instance.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!("{:016x}", hasher.finish())
}

impl IntoResponse for ApiError {
    fn into_response(mut self) -> Response {
        let (status, headers) = (self.status, std::mem::take(&mut self.headers));
        let mut response = (status, Json(self.body())).into_response();
        response.headers_mut().extend(headers);
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("{what} already exists"),
            ),
            StoreError::BadCursor => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_cursor", "invalid cursor")
            }
            other => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                other.to_string(),
            ),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let msg = e.to_string();
        match e {
            AuthError::InvalidCredentials => {
                ApiError::new(StatusCode::UNAUTHORIZED, "invalid_credentials", msg)
            }
            AuthError::MissingToken => {
                ApiError::new(StatusCode::UNAUTHORIZED, "missing_token", msg)
            }
            AuthError::InvalidToken => {
                ApiError::new(StatusCode::UNAUTHORIZED, "invalid_token", msg)
            }
            AuthError::Deactivated => ApiError::new(StatusCode::FORBIDDEN, "deactivated", msg),
            AuthError::NotAdmin => ApiError::new(StatusCode::FORBIDDEN, "admin_required", msg),
            AuthError::InvalidAccount(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_account", msg)
            }
            AuthError::UnknownUser(_) => ApiError::new(StatusCode::NOT_FOUND, "unknown_user", msg),
            AuthError::WeakSecret | AuthError::Keys(_) | AuthError::CannotSign => {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "misconfigured", msg)
            }
            AuthError::Throttled(t) => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", msg)
                    .with_header(axum::http::header::RETRY_AFTER, t.retry_after_secs)
            }
            AuthError::LastAdmin => ApiError::new(StatusCode::CONFLICT, "last_admin", msg),
            AuthError::Store(s) => s.into(),
        }
    }
}

impl From<AskError> for ApiError {
    fn from(e: AskError) -> Self {
        match e {
            AskError::NoIndex(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "engine_unavailable",
                e.to_string(),
            ),
            AskError::Query(q) => q.into(),
            AskError::Store(s) => s.into(),
        }
    }
}

impl From<RunError> for ApiError {
    fn from(e: RunError) -> Self {
        let msg = e.to_string();
        match e {
            RunError::Cluster(ClusterError::TooFewQuestions { .. }) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "too_few_questions", msg)
            }
            RunError::Cluster(ClusterError::InvalidK { .. }) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_k_range", msg)
            }
            RunError::Cluster(_) => {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "clustering_failed", msg)
            }
            RunError::Store(s) => s.into(),
        }
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        let msg = e.to_string();
        match e {
            QueryError::Invalid(invalid) => invalid.into(),
            QueryError::ModelMismatch { .. } | QueryError::Embed(_) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "engine_unavailable", msg)
            }
        }
    }
}

impl From<FeedbackError> for ApiError {
    fn from(e: FeedbackError) -> Self {
        let msg = e.to_string();
        match e {
            FeedbackError::CommentTooLong => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "comment_too_long", msg)
            }
            FeedbackError::UnknownQuery(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "unknown_query", msg)
            }
            FeedbackError::Store(s) => s.into(),
        }
    }
}

/// A request refused for its body, with the status and code the edge gives it too.
impl From<RequestError> for ApiError {
    fn from(e: RequestError) -> Self {
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
        ApiError::new(status, e.code(), e.to_string())
    }
}

/// A body the extractor refused: too large, or not what the API documents (malformed JSON, a
/// missing or mistyped field, a wrong content type).
fn rejected_body(status: StatusCode, detail: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        RequestError::BodyTooLarge.into()
    } else {
        RequestError::Malformed(detail).into()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        rejected_body(e.status(), e.body_text())
    }
}

impl From<BytesRejection> for ApiError {
    fn from(e: BytesRejection) -> Self {
        rejected_body(e.status(), e.body_text())
    }
}

#[cfg(feature = "ingest")]
impl From<DocumentsError> for ApiError {
    fn from(e: DocumentsError) -> Self {
        let msg = e.to_string();
        match e {
            DocumentsError::InvalidName(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_document_name",
                msg,
            ),
            DocumentsError::NotPdf(_) => {
                ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "not_pdf", msg)
            }
            DocumentsError::TooManyKeys => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "too_many_keys", msg)
            }
            DocumentsError::Busy => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "ingest_busy", msg)
                    .with_header(axum::http::header::RETRY_AFTER, 30)
            }
            DocumentsError::Update(UpdateError::Collection(CollectionError::Conflict(_))) => {
                ApiError::new(StatusCode::CONFLICT, "publish_conflict", msg)
            }
            DocumentsError::UnknownDocument(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "unknown_document", msg)
            }
            DocumentsError::PageOutOfRange { .. } => {
                ApiError::new(StatusCode::BAD_REQUEST, "page_out_of_range", msg)
            }
            DocumentsError::Collection(CollectionError::UnknownVersion { .. }) => {
                ApiError::new(StatusCode::NOT_FOUND, "unknown_version", msg)
            }
            DocumentsError::Collection(CollectionError::Conflict(_)) => {
                ApiError::new(StatusCode::CONFLICT, "publish_conflict", msg)
            }
            DocumentsError::Store(s) => s.into(),
            DocumentsError::Objects(_)
            | DocumentsError::Update(_)
            | DocumentsError::Collection(_) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "ingest_unavailable", msg)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_hide_their_cause_behind_a_request_id() {
        let internal = ApiError::from(StoreError::Unavailable(
            "connection to 10.1.2.3:5432 refused for user rag_admin".into(),
        ));
        assert_eq!(internal.status, StatusCode::SERVICE_UNAVAILABLE);
        let body = internal.body().error;
        assert_eq!(body.code, "store_unavailable");
        assert!(!body.message.contains("10.1.2.3"), "{}", body.message);
        assert!(!body.message.contains("rag_admin"), "{}", body.message);
        assert!(body.message.contains("request id"), "{}", body.message);

        let client = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "empty_question", "empty");
        assert_eq!(
            client.body().error.message,
            "empty",
            "client errors say what is wrong"
        );
    }

    #[test]
    fn throttled_logins_say_when_to_retry() {
        let throttled = ApiError::from(AuthError::Throttled(rag_core::throttle::Throttled {
            retry_after_secs: 42,
        }));
        let response = throttled.into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["retry-after"], "42");
    }
}
