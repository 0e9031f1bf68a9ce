//! POST /edge/hits: the rate counters of the edge tier in front, which keeps no state of its
//! own between requests. Only the edge may count (`EDGE_SECRET`): anyone else could exhaust a
//! user's budget.

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use rag_core::rate::Standing;
use serde::Deserialize;

use crate::caller::bearer;
use crate::error::ApiError;
use crate::state::App;

pub fn router() -> Router<App> {
    Router::new().route("/edge/hits", post(hit))
}

#[derive(Deserialize)]
pub struct Hit {
    pub key: String,
    pub max: u32,
    pub window_secs: u64,
}

/// Counts one request against a key (internal: the edge's own call, not in the public API).
pub async fn hit(
    State(app): State<App>,
    headers: HeaderMap,
    body: Result<Json<Hit>, JsonRejection>,
) -> Result<Json<Standing>, ApiError> {
    if !app.edge.is_edge(bearer(&headers)) {
        return Err(ApiError::not_found());
    }
    let Json(hit) = body?;
    app.edge
        .counters
        .hit(&hit.key, hit.max, hit.window_secs)
        .map(Json)
        .map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_rate",
                e.to_string(),
            )
        })
}
