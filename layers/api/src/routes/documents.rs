//! POST /documents (admin upload), GET /documents (admin), POST /events/s3 (bucket webhook)

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};

use crate::caller::Admin;
use crate::dto::{DocumentList, DocumentResponse, EventAccepted, UploadParams, UploadResponse};
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
        .route("/events/s3", post(webhook))
}

fn ingest(app: &App) -> Result<Arc<Ingest>, ApiError> {
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
        (status = 200, body = UploadResponse),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
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
    Ok(Json(UploadResponse {
        published: synced.published,
        index_version: synced.version,
        documents: synced.documents.into_iter().map(Into::into).collect(),
    }))
}

/// The collection's documents with their latest state (administrators only).
#[utoipa::path(get, path = "/documents", tag = "documents", security(("bearer" = [])),
    responses((status = 200, body = DocumentList), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn list(_: Admin, State(app): State<App>) -> Result<Json<DocumentList>, ApiError> {
    let ingest = ingest(&app)?;
    let documents = app
        .store
        .documents(ingest.documents.collection())
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
        (status = 202, body = EventAccepted),
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
