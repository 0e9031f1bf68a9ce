//! GET /health

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};

use crate::dto::{HealthResponse, TrackingHealth};
use crate::state::App;

pub fn router() -> Router<App> {
    Router::new().route("/health", get(health))
}

/// Version, loaded index and store reachability; 503 when the store does not answer.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, body = HealthResponse), (status = 503, body = HealthResponse)))]
pub async fn health(State(app): State<App>) -> (StatusCode, Json<HealthResponse>) {
    let reachable = app.store.ping().await.is_ok();
    let status = if reachable {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(HealthResponse {
            status: if reachable { "ok" } else { "unavailable" }.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            index_version: app.index_version(),
            index_error: app.engine.as_ref().and_then(|e| e.last_failure()).map(|f| {
                match f.version {
                    Some(v) => format!("version {v}: {}", f.message),
                    None => f.message,
                }
            }),
            store: app.store.kind().into(),
            tracking: app.tracker.as_ref().map(|t| {
                let stats = t.stats();
                TrackingHealth {
                    logged: stats.logged,
                    dropped: stats.dropped,
                    pending: stats.pending,
                }
            }),
        }),
    )
}
