//! POST /documents (admin upload), GET /documents (admin), GET /documents/{name} (a cited PDF,
//! any user), DELETE /documents/{name} (admin), POST /events/s3 (bucket webhook); the index
//! versions are in `index`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use rag_core::documents::Synced;

use crate::caller::{Admin, AuthUser};
use crate::dto::{
    DocumentList, DocumentPageParams, DocumentResponse, EventAccepted, UploadParams, UploadResponse,
};
use crate::error::{ApiError, ErrorBody};
use crate::events::BucketEvent;
use crate::events::{self, Notification};
use crate::state::{App, Ingest};

/// Largest PDF accepted by upload.
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024 * 1024;

pub fn router() -> Router<App> {
    Router::new()
        .route(
            "/documents",
            post(upload)
                .layer(DefaultBodyLimit::max(MAX_DOCUMENT_BYTES))
                .get(list),
        )
        .route("/documents/{name}", get(read).delete(remove))
        .route("/events/s3", post(webhook))
        .merge(super::index::router())
}

impl From<Synced> for UploadResponse {
    fn from(synced: Synced) -> Self {
        UploadResponse {
            published: synced.published,
            index_version: synced.version,
            documents: synced.documents.into_iter().map(Into::into).collect(),
        }
    }
}

pub(super) fn ingest(app: &App) -> Result<Arc<Ingest>, ApiError> {
    app.ingest.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ingest_unavailable",
            "this function does not ingest documents",
        )
    })
}

/// Uploads a PDF (the raw bytes as the body) into the collection and ingests it (administrators
/// only). A PDF that cannot be read is stored and reported as `failed` with the reason; the
/// published index is unchanged then.
#[utoipa::path(post, path = "/documents", tag = "documents", params(UploadParams),
    request_body(content = Vec<u8>, content_type = "application/pdf"),
    security(("bearer" = [])),
    responses(
        (status = 200, body = UploadResponse, description = "the document's state and the version published"),
        (status = 401, body = ErrorBody, description = "missing, invalid or expired token"), (status = 403, body = ErrorBody, description = "not an administrator, or deactivated"),
        (status = 409, body = ErrorBody, description = "other writers kept publishing first"),
        (status = 413, body = ErrorBody, description = "larger than 64 MiB"),
        (status = 415, body = ErrorBody, description = "not a PDF"),
        (status = 422, body = ErrorBody, description = "invalid document name"),
        (status = 503, body = ErrorBody, description = "object store or database unavailable"),
    ))]
pub async fn upload(
    Admin(caller): Admin,
    State(app): State<App>,
    params: Result<Query<UploadParams>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<UploadResponse>, ApiError> {
    let body = body?;
    let Query(params) = params.map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            e.body_text(),
        )
    })?;
    let ingest = ingest(&app)?;
    let synced = ingest
        .documents
        .upload(app.store.as_ref(), &caller.username, &params.name, &body)
        .await?;
    Ok(Json(synced.into()))
}

/// An indexed PDF, for a reader following a citation: the client opens it at `page` (the
/// browser's viewer takes `#page=N`); `page` is checked against the document.
#[utoipa::path(get, path = "/documents/{name}", tag = "documents", operation_id = "read_document",
    params(("name" = String, Path, description = "the document's file name, as cited"), DocumentPageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, content_type = "application/pdf", body = Vec<u8>, description = "the PDF"),
        (status = 400, body = ErrorBody, description = "page out of range"),
        (status = 401, body = ErrorBody, description = "missing, invalid or expired token"),
        (status = 403, body = ErrorBody, description = "deactivated account"),
        (status = 404, body = ErrorBody, description = "no indexed document of that name"),
        (status = 422, body = ErrorBody, description = "invalid document name"),
    ))]
pub async fn read(
    _: AuthUser,
    State(app): State<App>,
    Path(name): Path<String>,
    params: Result<Query<DocumentPageParams>, QueryRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Query(params) =
        params.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text()))?;
    let bytes = ingest(&app)?.documents.pdf(&name, params.page).await?;
    // The name is checked (no quote, no control character) before anything is read.
    let disposition = format!("inline; filename=\"{}\"", name.replace('"', ""));
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        bytes,
    ))
}

/// Removes a document: its PDF leaves the bucket and its passages the index, in a new
/// published version (administrators only).
#[utoipa::path(delete, path = "/documents/{name}", tag = "documents", operation_id = "remove_document",
    params(("name" = String, Path, description = "the document's file name")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = UploadResponse, description = "the document, now `removed`, and the version published"),
        (status = 401, body = ErrorBody, description = "missing, invalid or expired token"),
        (status = 403, body = ErrorBody, description = "not an administrator, or deactivated"),
        (status = 404, body = ErrorBody, description = "the collection has no such document"),
        (status = 409, body = ErrorBody, description = "other writers kept publishing first"),
        (status = 422, body = ErrorBody, description = "invalid document name"),
        (status = 503, body = ErrorBody, description = "object store or database unavailable"),
    ))]
pub async fn remove(
    Admin(caller): Admin,
    State(app): State<App>,
    Path(name): Path<String>,
) -> Result<Json<UploadResponse>, ApiError> {
    let synced = ingest(&app)?
        .documents
        .remove(app.store.as_ref(), &caller.username, &name)
        .await?;
    Ok(Json(synced.into()))
}

/// The collection's documents with their latest state (administrators only).
#[utoipa::path(get, path = "/documents", tag = "documents", operation_id = "list_documents", security(("bearer" = [])),
    responses((status = 200, body = DocumentList, description = "the documents"), (status = 401, body = ErrorBody, description = "missing, invalid or expired token"),
        (status = 403, body = ErrorBody, description = "not an administrator, or deactivated")))]
pub async fn list(_: Admin, State(app): State<App>) -> Result<Json<DocumentList>, ApiError> {
    let documents = ingest(&app)?
        .documents
        .list(app.store.as_ref())
        .await?
        .into_iter()
        .map(DocumentResponse::from)
        .collect();
    Ok(Json(DocumentList { documents }))
}

/// Receives the bucket's event notifications (S3 event JSON as MinIO sends it, or inside an
/// SNS envelope) and ingests or removes the named PDFs in the background. Served only when
/// `INGEST_WEBHOOK_TOKEN` is set; the secret comes in `Authorization` (Bearer, or Basic as an SNS
/// subscription URL with `user:secret@` sends it).
#[utoipa::path(post, path = "/events/s3", tag = "documents",
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 202, body = EventAccepted, description = "the objects named were queued"),
        (status = 400, body = ErrorBody, description = "not an S3 event notification"),
        (status = 401, body = ErrorBody, description = "missing or wrong webhook secret"),
        (status = 404, body = ErrorBody, description = "no webhook secret configured: the webhook is off"),
        (status = 422, body = ErrorBody, description = "more than 100 objects in one event"),
        (status = 429, body = ErrorBody, description = "too many objects already waiting"),
    ))]
pub async fn webhook(
    _: BucketEvent,
    State(app): State<App>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<EventAccepted>), ApiError> {
    let ingest = ingest(&app)?;
    let body = body?;
    let notification = events::parse(&body, ingest.bucket.as_deref())
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_event", e.to_string()))?;
    let keys = match notification {
        Notification::Keys(keys) => keys,
        Notification::Test => Vec::new(),
        Notification::SubscriptionConfirmation { subscribe_url } => {
            // Debug-formatted: a line break in the URL cannot forge a log line.
            tracing::warn!(
                ?subscribe_url,
                "SNS subscription awaiting confirmation: visit the URL to confirm it"
            );
            Vec::new()
        }
    };
    let accepted = ingest.documents.schedule(app.store.clone(), &keys)?;
    Ok((StatusCode::ACCEPTED, Json(EventAccepted { keys: accepted })))
}
