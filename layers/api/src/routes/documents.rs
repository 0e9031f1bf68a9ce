//! POST /documents (admin upload), GET /documents (admin), POST /events/s3 (bucket webhook)

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use rag_core::documents::Documents;
use rag_core::store::Store;
use sha2::{Digest, Sha256};

use super::{admin, bearer};
use crate::dto::{
    DocumentList, DocumentResponse, EventAccepted, TokenParam, UploadParams, UploadResponse,
};
use crate::error::{ApiError, ErrorBody};
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
    State(app): State<App>,
    headers: HeaderMap,
    params: Result<Query<UploadParams>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<UploadResponse>, ApiError> {
    admin(&app, &headers).await?;
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
        .upload(app.store.as_ref(), &params.name, &body)
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
pub async fn list(
    State(app): State<App>,
    headers: HeaderMap,
) -> Result<Json<DocumentList>, ApiError> {
    admin(&app, &headers).await?;
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
/// SNS envelope) and ingests or removes the named PDFs in the background.
#[utoipa::path(post, path = "/events/s3", tag = "documents", params(TokenParam),
    responses(
        (status = 202, body = EventAccepted),
        (status = 400, body = ErrorBody, description = "not an S3 event notification"),
        (status = 401, body = ErrorBody, description = "missing or wrong webhook token"),
    ))]
pub async fn webhook(
    State(app): State<App>,
    headers: HeaderMap,
    Query(token): Query<TokenParam>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<EventAccepted>), ApiError> {
    let ingest = ingest(&app)?;
    let body = body?;
    if let Some(expected) = &ingest.webhook_token {
        let given = bearer(&headers).or(token.token.as_deref());
        // Compared as digests: the time taken says nothing about the secret's bytes.
        let same = |g: &str| Sha256::digest(g) == Sha256::digest(expected);
        if !given.is_some_and(same) {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "missing or wrong webhook token",
            ));
        }
    }
    let notification = events::parse(&body, ingest.bucket.as_deref())
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_event", e.to_string()))?;
    let keys = match notification {
        Notification::Keys(keys) => keys,
        Notification::Test => Vec::new(),
        Notification::SubscriptionConfirmation { subscribe_url } => {
            tracing::warn!(%subscribe_url, "SNS subscription awaiting confirmation: visit the URL to confirm it");
            Vec::new()
        }
    };
    let accepted = keys.len();
    if !keys.is_empty() {
        let store = app.store.clone();
        tokio::spawn(async move { sync_logged(&ingest.documents, store.as_ref(), &keys).await });
    }
    Ok((StatusCode::ACCEPTED, Json(EventAccepted { keys: accepted })))
}

/// Runs a synchronisation whose caller has already been answered: failures go to the log
/// (and the documents table says what was ingested).
async fn sync_logged(documents: &Documents, store: &dyn Store, keys: &[String]) {
    if let Err(e) = documents.sync(store, keys).await {
        tracing::error!(error = %e, ?keys, "event not applied; the published index is unchanged");
    }
}
