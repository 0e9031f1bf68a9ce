//! POST /clusters/run, GET /clusters: the topics technicians ask about.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use rag_core::cluster::runs::{self, Topics};

use crate::caller::Admin;
use crate::dto::TopicsResponse;
use crate::error::{ApiError, ErrorBody};
use crate::state::App;

/// `GET /clusters`, and `POST /clusters/run` where k-means is built in (the cluster function).
pub fn router() -> Router<App> {
    let router = Router::new().route("/clusters", get(latest));
    #[cfg(feature = "kmeans")]
    let router = router.route("/clusters/run", axum::routing::post(run));
    router
}

#[cfg(feature = "kmeans")]
/// Clusters the recorded questions now (administrators; also run on a schedule), choosing k
/// by silhouette in `k_min..=k_max`; each recorded question is assigned to its cluster.
#[utoipa::path(post, path = "/clusters/run", tag = "clusters", params(crate::dto::ClusterRunParams),
    security(("bearer" = [])),
    responses(
        (status = 200, body = TopicsResponse, description = "the new run"),
        (status = 401, body = ErrorBody, description = "missing, invalid or expired token"), (status = 403, body = ErrorBody, description = "not an administrator, or deactivated"),
        (status = 422, body = ErrorBody, description = "too few questions, or a bad k range"),
        (status = 503, body = ErrorBody, description = "store unavailable"),
    ))]
pub async fn run(
    _: Admin,
    State(app): State<App>,
    params: Result<
        axum::extract::Query<crate::dto::ClusterRunParams>,
        axum::extract::rejection::QueryRejection,
    >,
) -> Result<Json<TopicsResponse>, ApiError> {
    use rag_core::cluster::ClusterParams;
    let axum::extract::Query(p) =
        params.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text()))?;
    let defaults = ClusterParams::default();
    let params = ClusterParams {
        k_min: p.k_min.unwrap_or(defaults.k_min),
        k_max: p.k_max.unwrap_or(defaults.k_max),
        seed: p.seed.unwrap_or(defaults.seed),
        ..defaults
    };
    Ok(Json(cluster_now(&app, &params).await?))
}

/// One clustering run by this process; its new centroids apply to the next question.
#[cfg(feature = "kmeans")]
pub async fn cluster_now(
    app: &App,
    params: &rag_core::cluster::ClusterParams,
) -> Result<TopicsResponse, ApiError> {
    let topics = runs::run(app.store.as_ref(), params, app.tracker.as_ref()).await?;
    app.assigner.invalidate();
    Ok(topics.into())
}

/// The latest clustering run: clusters with their size, label terms and most central
/// questions, the elbow curve, and questions per cluster per day and per ISO week.
#[utoipa::path(get, path = "/clusters", tag = "clusters", security(("bearer" = [])),
    responses(
        (status = 200, body = TopicsResponse, description = "the latest run"),
        (status = 401, body = ErrorBody, description = "missing, invalid or expired token"), (status = 403, body = ErrorBody, description = "not an administrator, or deactivated"),
        (status = 404, body = ErrorBody, description = "no clustering run yet"),
    ))]
pub async fn latest(_: Admin, State(app): State<App>) -> Result<Json<TopicsResponse>, ApiError> {
    let topics: Option<Topics> = runs::latest(app.store.as_ref()).await?;
    let topics = topics.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_clustering",
            "no clustering run yet: POST /clusters/run",
        )
    })?;
    Ok(Json(topics.into()))
}
