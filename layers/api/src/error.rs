//! One mapping from domain errors to HTTP: status + `{"error": {"code", "message"}}`.

use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rag_core::accounts::AuthError;
use rag_core::assistant::AskError;
use rag_core::cluster::ClusterError;
use rag_core::cluster::runs::RunError;
use rag_core::collection::CollectionError;
use rag_core::documents::DocumentsError;
use rag_core::query::QueryError;
use rag_core::store::StoreError;
use rag_core::update::UpdateError;
use serde::Serialize;
use utoipa::ToSchema;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid_token`.
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn not_found() -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
    }
}

impl ApiError {
    /// The JSON body, also sent as the last event of a stream that failed.
    pub fn body(self) -> ErrorBody {
        if self.status.is_server_error() {
            tracing::warn!(code = self.code, message = %self.message, "request failed");
        }
        ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        (status, Json(self.body())).into_response()
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
            AuthError::WeakSecret => {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "misconfigured", msg)
            }
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
            QueryError::EmptyQuestion => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "empty_question", msg)
            }
            QueryError::QuestionTooLong { .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "question_too_long", msg)
            }
            QueryError::InvalidTopK { .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_top_k", msg)
            }
            QueryError::ModelMismatch { .. } | QueryError::Embed(_) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "engine_unavailable", msg)
            }
        }
    }
}

/// A body the extractor refused: too large, or not what the API documents (malformed JSON, a
/// missing or mistyped field, a wrong content type).
fn rejected_body(status: StatusCode, detail: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(status, "body_too_large", "request body too large")
    } else {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", detail)
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
            DocumentsError::Update(UpdateError::Collection(CollectionError::Conflict(_))) => {
                ApiError::new(StatusCode::CONFLICT, "publish_conflict", msg)
            }
            DocumentsError::Store(s) => s.into(),
            DocumentsError::Objects(_) | DocumentsError::Update(_) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "ingest_unavailable", msg)
            }
        }
    }
}
