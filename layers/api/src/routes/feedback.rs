//! POST /queries/{query_id}/feedback (the asker), GET /admin/feedback (administrators)

use std::collections::HashMap;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use rag_core::feedback;

use crate::caller::{Admin, AuthUser};
use crate::dto::{
    FeedbackItem, FeedbackList, FeedbackRequest, FeedbackResponse, Page, PageParams, rfc3339,
};
use crate::error::{ApiError, ErrorBody};
use crate::state::App;

pub fn router() -> Router<App> {
    Router::new()
        .route("/queries/{query_id}/feedback", post(give))
        .route("/admin/feedback", get(list))
}

/// Says whether an answer was useful, with an optional comment; given again, it replaces the
/// previous one. Only on the caller's own questions.
#[utoipa::path(post, path = "/queries/{query_id}/feedback", tag = "history",
    params(("query_id" = String, Path, description = "`query_id` of the answer")),
    request_body = FeedbackRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, body = FeedbackResponse, description = "the feedback as stored"),
        (status = 400, body = ErrorBody, description = "malformed JSON, or a missing field"),
        (status = 401, body = ErrorBody, description = "missing, invalid or expired token"),
        (status = 403, body = ErrorBody, description = "deactivated account"),
        (status = 404, body = ErrorBody, description = "no such question in the caller's history"),
        (status = 422, body = ErrorBody, description = "comment longer than 1,000 characters"),
    ))]
pub async fn give(
    AuthUser(caller): AuthUser,
    State(app): State<App>,
    Path(query_id): Path<String>,
    body: Result<Json<FeedbackRequest>, JsonRejection>,
) -> Result<Json<FeedbackResponse>, ApiError> {
    let Json(req) = body?;
    let given = feedback::give(
        app.store.as_ref(),
        app.tracker.as_ref(),
        &caller,
        &query_id,
        req.useful,
        req.comment.as_deref(),
    )
    .await?;
    Ok(Json(FeedbackResponse {
        query_id,
        useful: given.useful,
        comment: given.comment,
        at: rfc3339(given.at),
    }))
}

/// Every user's feedback, newest question first (administrators only).
#[utoipa::path(get, path = "/admin/feedback", tag = "admin", operation_id = "list_feedback", params(PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, body = FeedbackList, description = "a page of feedback"),
        (status = 400, body = ErrorBody, description = "invalid cursor"),
        (status = 401, body = ErrorBody, description = "missing, invalid or expired token"),
        (status = 403, body = ErrorBody, description = "not an administrator, or deactivated"),
        (status = 422, body = ErrorBody, description = "limit out of range"),
    ))]
pub async fn list(
    _: Admin,
    State(app): State<App>,
    params: Result<Query<PageParams>, QueryRejection>,
) -> Result<Json<FeedbackList>, ApiError> {
    let Query(p) =
        params.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text()))?;
    let page = Page::parse(p.limit, p.cursor.as_deref())?;
    let entries = app
        .store
        .feedback(page.limit, page.before.as_deref())
        .await?;
    let next_cursor = page.next_cursor(entries.last().map(|e| e.query_id.as_str()), entries.len());
    let names: HashMap<i64, String> = app
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| (u.id, u.username))
        .collect();
    Ok(Json(FeedbackList {
        items: entries
            .into_iter()
            .map(|e| FeedbackItem {
                username: names.get(&e.user_id).cloned(),
                query_id: e.query_id,
                question: e.question,
                useful: e.feedback.useful,
                comment: e.feedback.comment,
                at: rfc3339(e.feedback.at),
            })
            .collect(),
        next_cursor,
    }))
}
