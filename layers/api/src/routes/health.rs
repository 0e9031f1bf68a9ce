//! GET /health (liveness: the process and its store) and GET /health/ready (readiness: also
//! the index loaded, where the process answers questions), for probes and warm-up checks.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};

use crate::dto::{HealthResponse, TrackingHealth};
use crate::state::App;

pub fn router() -> Router<App> {
    Router::new()
        .route("/health", get(health))
        .route("/health/ready", get(ready))
}

/// Version, loaded index and store reachability; 503 when the store does not answer.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, body = HealthResponse, description = "the service and its store answer"), (status = 503, body = HealthResponse, description = "the store is unreachable (the body says which part failed)")))]
pub async fn health(State(app): State<App>) -> (StatusCode, Json<HealthResponse>) {
    let report = report(&app).await;
    (status(report.status == "ok"), Json(report))
}

/// The same report, answered 503 until the process is ready: the store answers and, in a
/// process that answers questions, an index version is loaded.
#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses((status = 200, body = HealthResponse, description = "ready: store reachable, index loaded"), (status = 503, body = HealthResponse, description = "not ready yet, or the store is unreachable")))]
pub async fn ready(State(app): State<App>) -> (StatusCode, Json<HealthResponse>) {
    let report = report(&app).await;
    (status(report.ready), Json(report))
}

fn status(ok: bool) -> StatusCode {
    match ok {
        true => StatusCode::OK,
        false => StatusCode::SERVICE_UNAVAILABLE,
    }
}

async fn report(app: &App) -> HealthResponse {
    let reachable = app.store.ping().await.is_ok();
    let index_version = app.index_version();
    HealthResponse {
        status: if reachable { "ok" } else { "unavailable" }.into(),
        ready: reachable && (app.engine.is_none() || index_version.is_some()),
        version: env!("CARGO_PKG_VERSION").into(),
        index_version,
        index_error: app
            .engine
            .as_ref()
            .and_then(|e| e.last_failure())
            .map(|f| match f.version {
                Some(v) => format!("version {v}: {}", f.message),
                None => f.message,
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
    }
}
