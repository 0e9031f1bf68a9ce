//! GET /index/versions, POST /index/rollback (administrators): the published versions of the
//! collection, and going back to one after a bad upload.

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::routing::{get, post};
use axum::{Json, Router};

use super::documents::ingest;
use crate::caller::Admin;
use crate::dto::{RollbackRequest, VersionDto, VersionList};
use crate::error::{ApiError, ErrorBody};
use crate::state::App;

pub fn router() -> Router<App> {
    Router::new()
        .route("/index/versions", get(versions))
        .route("/index/rollback", post(rollback))
}

/// The collection's published index versions, newest first; `current` marks the one queries
/// are answered from (administrators only).
#[utoipa::path(get, path = "/index/versions", tag = "documents", security(("bearer" = [])),
    responses(
        (status = 200, body = VersionList, description = "the versions"),
        (status = 401, body = ErrorBody, description = "missing, invalid or expired token"),
        (status = 403, body = ErrorBody, description = "not an administrator, or deactivated"),
        (status = 503, body = ErrorBody, description = "object store unavailable"),
    ))]
pub async fn versions(_: Admin, State(app): State<App>) -> Result<Json<VersionList>, ApiError> {
    let versions = ingest(&app)?.documents.versions().await?;
    Ok(Json(VersionList {
        versions: versions.into_iter().map(VersionDto::from).collect(),
    }))
}

/// Points the collection back at an earlier version, after checking that it loads; warm query
/// processes follow within `INDEX_REFRESH_SECS` (administrators only).
#[utoipa::path(post, path = "/index/rollback", tag = "documents", request_body = RollbackRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, body = RollbackRequest, description = "the version now current"),
        (status = 400, body = ErrorBody, description = "malformed JSON"),
        (status = 401, body = ErrorBody, description = "missing, invalid or expired token"),
        (status = 403, body = ErrorBody, description = "not an administrator, or deactivated"),
        (status = 404, body = ErrorBody, description = "no such version"),
        (status = 409, body = ErrorBody, description = "another publisher moved the index meanwhile"),
        (status = 503, body = ErrorBody, description = "object store unavailable"),
    ))]
pub async fn rollback(
    Admin(caller): Admin,
    State(app): State<App>,
    body: Result<Json<RollbackRequest>, JsonRejection>,
) -> Result<Json<RollbackRequest>, ApiError> {
    let Json(req) = body?;
    ingest(&app)?
        .documents
        .rollback(app.store.as_ref(), &caller.username, &req.version)
        .await?;
    Ok(Json(req))
}
