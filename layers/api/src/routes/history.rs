//! GET /history (with feedback: see `feedback`)

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use rag_core::{accounts, history};

use crate::caller::AuthUser;
use crate::dto::{HistoryItem, HistoryParams, HistoryResponse, Page};
use crate::error::{ApiError, ErrorBody};
use crate::state::App;

/// Longest `q`: a question's words, not a document.
const MAX_SEARCH_CHARS: usize = 200;

pub fn router() -> Router<App> {
    Router::new()
        .route("/history", get(history))
        .merge(super::feedback::router())
}

/// The caller's questions, newest first, each with its feedback; `q` keeps those containing a
/// text; administrators may read another user's with `user=`.
#[utoipa::path(get, path = "/history", tag = "history", params(HistoryParams),
    security(("bearer" = [])),
    responses(
        (status = 200, body = HistoryResponse, description = "a page of questions"),
        (status = 400, body = ErrorBody, description = "invalid cursor"),
        (status = 401, body = ErrorBody, description = "missing, invalid or expired token"),
        (status = 403, body = ErrorBody, description = "deactivated, or user= without admin role"),
        (status = 404, body = ErrorBody, description = "unknown user"),
        (status = 422, body = ErrorBody, description = "limit out of range, or `q` over 200 characters"),
    ))]
pub async fn history(
    AuthUser(caller): AuthUser,
    State(app): State<App>,
    params: Result<Query<HistoryParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<HistoryResponse>, ApiError> {
    let Query(p) =
        params.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text()))?;
    let page = Page::parse(p.limit, p.cursor.as_deref())?;
    if p.q
        .as_ref()
        .is_some_and(|q| q.chars().count() > MAX_SEARCH_CHARS)
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_search",
            format!("search text longer than {MAX_SEARCH_CHARS} characters"),
        ));
    }
    let owner = match p.user.as_deref() {
        Some(name) if name != caller.username => {
            accounts::require_admin(&caller)?;
            app.store.user(name).await?.ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "unknown_user",
                    format!("user {name} not found"),
                )
            })?
        }
        _ => caller,
    };
    let (items, next_cursor) = match p.q.as_deref().filter(|q| !q.trim().is_empty()) {
        Some(text) => {
            let found = history::search(
                app.store.as_ref(),
                owner.id,
                text,
                page.limit,
                page.before.as_deref(),
            )
            .await?;
            (found.items, found.next)
        }
        None => {
            let items = app
                .store
                .history(owner.id, page.limit, page.before.as_deref())
                .await?;
            let next = page.next_cursor(items.last().map(|q| q.id.as_str()), items.len());
            (items, next)
        }
    };
    Ok(Json(HistoryResponse {
        items: items.into_iter().map(HistoryItem::from).collect(),
        next_cursor,
    }))
}
