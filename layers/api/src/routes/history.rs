//! GET /history

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use rag_core::accounts;

use super::bearer;
use crate::dto::{HistoryItem, HistoryParams, HistoryResponse};
use crate::error::{ApiError, ErrorBody};
use crate::state::App;

const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 100;

pub fn router() -> Router<App> {
    Router::new().route("/history", get(history))
}

/// The caller's questions, newest first; administrators may read another user's with `user=`.
#[utoipa::path(get, path = "/history", tag = "history", params(HistoryParams),
    security(("bearer" = [])),
    responses(
        (status = 200, body = HistoryResponse),
        (status = 400, body = ErrorBody, description = "invalid cursor"),
        (status = 401, body = ErrorBody, description = "missing, invalid or expired token"),
        (status = 403, body = ErrorBody, description = "deactivated, or user= without admin role"),
        (status = 404, body = ErrorBody, description = "unknown user"),
        (status = 422, body = ErrorBody, description = "limit out of range"),
    ))]
pub async fn history(
    State(app): State<App>,
    headers: HeaderMap,
    params: Result<Query<HistoryParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<HistoryResponse>, ApiError> {
    let caller = accounts::authenticate(app.store.as_ref(), &app.tokens, bearer(&headers)).await?;
    let Query(p) =
        params.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text()))?;
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_limit",
            format!("limit must be between 1 and {MAX_LIMIT}"),
        ));
    }
    let before = p
        .cursor
        .as_deref()
        .map(|c| {
            c.parse::<i64>().map_err(|_| {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_cursor", "invalid cursor")
            })
        })
        .transpose()?;
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
    let items = app.store.history(owner.id, limit, before).await?;
    let next_cursor = (items.len() == limit)
        .then(|| items.last().map(|q| q.id.to_string()))
        .flatten();
    Ok(Json(HistoryResponse {
        items: items.into_iter().map(HistoryItem::from).collect(),
        next_cursor,
    }))
}
