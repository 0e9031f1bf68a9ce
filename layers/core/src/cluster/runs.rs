//! Clustering as the service runs it: over the recorded questions, stored with a run id,
//! tracked in MLflow; the latest run as admins read it (with trends); and the nearest
//! cluster of each new question, from centroids cached between requests.

use std::sync::RwLock;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{Cluster, ClusterError, KScore, Period, nearest};
#[cfg(feature = "kmeans")]
use super::{ClusterParams, Clustering, cluster};
use crate::store::{ClusterRef, ClusterStore, StoreError};
#[cfg(feature = "kmeans")]
use crate::track::{Kind, Run, Tracker};

/// Most recent questions clustered by one run: k-means takes seconds at 10,000.
pub const MAX_QUESTIONS: usize = 20_000;

/// Why a clustering run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A cluster as admins see it (no centroid).
#[derive(Debug, Clone, Serialize)]
pub struct ClusterSummary {
    pub id: usize,
    /// Questions assigned to it: by the run, and at query time since.
    pub size: usize,
    pub terms: Vec<String>,
    pub representatives: Vec<String>,
}

/// The latest run: clusters and their counts per day and per ISO week.
#[derive(Debug, Clone, Serialize)]
pub struct Topics {
    pub run: i64,
    /// Epoch milliseconds.
    pub created_at: i64,
    pub k: usize,
    pub silhouette: f32,
    pub inertia: f64,
    pub elbow: Vec<KScore>,
    pub clusters: Vec<ClusterSummary>,
    pub per_day: Vec<super::Bucket>,
    pub per_week: Vec<super::Bucket>,
}

/// Clusters the newest recorded questions, stores the run (assigning each question) and hands
/// it to the tracker.
#[cfg(feature = "kmeans")]
pub async fn run(
    store: &dyn ClusterStore,
    params: &ClusterParams,
    tracker: Option<&Tracker>,
) -> Result<Topics, RunError> {
    let started = Instant::now();
    let mut points = store.question_points(MAX_QUESTIONS).await?;
    // Questions embedded by other models (before a model change) are not comparable.
    let dimensions = points.last().map(|p| p.embedding.len());
    points.retain(|p| Some(p.embedding.len()) == dimensions);
    let questions = points.len();
    let job = params.clone();
    // k-means is CPU-bound: keep it off the async workers.
    let clustering = tokio::task::spawn_blocking(move || cluster(&points, &job))
        .await
        .map_err(|e| StoreError::Unavailable(format!("clustering worker failed: {e}")))??;
    let id = store.record_clustering(&clustering).await?;
    let seconds = started.elapsed().as_secs_f64();
    tracing::info!(
        run = id,
        k = clustering.k,
        questions,
        seconds,
        "questions clustered"
    );
    if let Some(tracker) = tracker {
        tracker.track(cluster_run(id, &clustering, params, questions, seconds));
    }
    let latest = latest(store).await?;
    latest.ok_or_else(|| StoreError::Invalid(format!("clustering run {id} not found")).into())
}

#[cfg(feature = "kmeans")]
fn cluster_run(
    id: i64,
    clustering: &Clustering,
    params: &ClusterParams,
    questions: usize,
    seconds: f64,
) -> Run {
    let summary: Vec<_> = clustering.clusters.iter().map(summary).collect();
    let mut run = Run::new(Kind::Cluster, format!("cluster-{id}"))
        .param("k_min", params.k_min)
        .param("k_max", params.k_max)
        .param("seed", params.seed)
        .param("max_iter", params.max_iter)
        .param("runs", params.runs)
        .metric("questions", questions as f64)
        .metric("k", clustering.k as f64)
        .metric("silhouette", f64::from(clustering.silhouette))
        .metric("inertia", clustering.inertia)
        .metric("seconds", seconds)
        .tag("rag.cluster_run", id.to_string())
        .artifact(
            "clusters.json",
            serde_json::to_vec_pretty(&summary).unwrap_or_default(),
        )
        .artifact(
            "elbow.json",
            serde_json::to_vec_pretty(&clustering.elbow).unwrap_or_default(),
        );
    for score in &clustering.elbow {
        run = run
            .metric(
                format!("silhouette_k{:02}", score.k),
                f64::from(score.silhouette),
            )
            .metric(format!("inertia_k{:02}", score.k), score.inertia);
    }
    run
}

fn summary(c: &Cluster) -> ClusterSummary {
    ClusterSummary {
        id: c.id,
        size: c.size,
        terms: c.terms.clone(),
        representatives: c.representatives.clone(),
    }
}

/// The latest run with its trends, `None` before the first run.
pub async fn latest(store: &dyn ClusterStore) -> Result<Option<Topics>, StoreError> {
    let Some(run) = store.latest_clustering().await? else {
        return Ok(None);
    };
    let members = store.cluster_members(run.id).await?;
    let c = run.clustering;
    let mut clusters: Vec<ClusterSummary> = c.clusters.iter().map(summary).collect();
    for s in &mut clusters {
        s.size = members
            .iter()
            .filter(|(cluster, _)| *cluster == s.id)
            .count();
    }
    let events = || members.iter().map(|&(cluster, at)| (at, cluster));
    Ok(Some(Topics {
        run: run.id,
        created_at: run.created_at,
        k: c.k,
        silhouette: c.silhouette,
        inertia: c.inertia,
        elbow: c.elbow,
        per_day: super::trend::count(events(), clusters.len(), Period::Day),
        per_week: super::trend::count(events(), clusters.len(), Period::Week),
        clusters,
    }))
}

/// A run id and its centroids.
type Centroids = (i64, Vec<Vec<f32>>);

/// The latest run's centroids, re-read at most every `refresh_every`, to give each new
/// question its nearest cluster without a database read per query.
pub struct Assigner {
    refresh_every: Duration,
    /// When they were read, and what was found (`None`: no run yet).
    cached: RwLock<Option<(Instant, Option<Centroids>)>>,
}

impl Assigner {
    pub fn new(refresh_every: Duration) -> Self {
        Assigner {
            refresh_every,
            cached: RwLock::new(None),
        }
    }

    /// Forgets the cached centroids, after a run by this process.
    pub fn invalidate(&self) {
        if let Ok(mut cached) = self.cached.write() {
            *cached = None;
        }
    }

    /// The nearest cluster of the latest run; `None` before any run, when the dimensions
    /// differ (the models changed since), or when the store cannot be read.
    pub async fn assign(&self, store: &dyn ClusterStore, embedding: &[f32]) -> Option<ClusterRef> {
        let fresh = self
            .cached
            .read()
            .ok()
            .and_then(|c| c.clone())
            .filter(|(at, _)| at.elapsed() < self.refresh_every);
        let centroids = match fresh {
            Some((_, centroids)) => centroids,
            None => {
                let latest = match store.latest_clustering().await {
                    Ok(latest) => latest.map(|run| {
                        let centroids = run.clustering.clusters.iter();
                        (run.id, centroids.map(|c| c.centroid.clone()).collect())
                    }),
                    Err(e) => {
                        tracing::warn!(error = %e, "cluster centroids not readable");
                        None
                    }
                };
                if let Ok(mut cached) = self.cached.write() {
                    *cached = Some((Instant::now(), latest.clone()));
                }
                latest
            }
        };
        let (run, centroids) = centroids?;
        let cluster = nearest(&centroids, embedding)?;
        Some(ClusterRef { run, cluster })
    }
}
