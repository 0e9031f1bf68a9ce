//! Experiment tracking in MLflow, over its REST API. A query or an ingest hands a [`Run`] to
//! the [`Tracker`] and moves on: runs wait in a bounded queue and one background task logs
//! them, so a slow or absent MLflow server never slows or fails the caller; what cannot be
//! logged is dropped and counted ([`TrackStats`]). Off when `MLFLOW_TRACKING_URI` is unset.

mod mlflow;
mod queue;
mod wire;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, mpsc};

pub use mlflow::MlflowClient;
pub use wire::{ArtifactFile, LoggedRun, RegisteredVersion, RunInfo};

/// The experiment when `MLFLOW_EXPERIMENT_NAME` is unset.
pub const DEFAULT_EXPERIMENT: &str = "it-support-rag";
/// Runs waiting to be logged before new ones are dropped.
pub const QUEUE_CAPACITY: usize = 512;
/// The tag naming what a run records.
pub const KIND_TAG: &str = "rag.kind";

/// Why an MLflow call failed.
#[derive(Debug, thiserror::Error)]
pub enum TrackError {
    #[error("MLflow unreachable: {0}")]
    Unavailable(String),
    /// MLflow's `{"error_code", "message"}`, or the start of the body when it sent none.
    #[error("MLflow answered HTTP {status} {code}: {message}")]
    Status {
        status: u16,
        code: String,
        message: String,
    },
    #[error("MLflow response malformed: {0}")]
    Malformed(String),
    /// A request this client refuses to send, e.g. an artifact path with `..`.
    #[error("invalid tracking request: {0}")]
    Invalid(String),
}

impl TrackError {
    /// MLflow's error code, e.g. `RESOURCE_ALREADY_EXISTS`.
    pub fn code(&self) -> Option<&str> {
        match self {
            TrackError::Status { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The server is down or overloaded (as opposed to refusing this one request).
    fn is_outage(&self) -> bool {
        match self {
            TrackError::Unavailable(_) => true,
            TrackError::Status { status, .. } => *status == 429 || *status >= 500,
            TrackError::Malformed(_) | TrackError::Invalid(_) => false,
        }
    }
}

/// What a run records; becomes the `rag.kind` tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Query,
    Ingest,
    Cluster,
    Index,
    Feedback,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Query => "query",
            Kind::Ingest => "ingest",
            Kind::Cluster => "cluster",
            Kind::Index => "index",
            Kind::Feedback => "feedback",
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Finished,
    Failed,
}

impl RunStatus {
    fn as_str(self) -> &'static str {
        match self {
            RunStatus::Finished => "FINISHED",
            RunStatus::Failed => "FAILED",
        }
    }
}

/// A model version to register once its run is logged, e.g. an index version whose artifact is
/// its manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelVersion {
    pub model: String,
    pub description: String,
    pub tags: Vec<(String, String)>,
}

/// One run to log. Long parameter values are truncated and non-finite metrics left out when
/// logged, so a caller never has to know MLflow's limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// `None`: the tracker's experiment.
    pub experiment: Option<String>,
    pub name: String,
    pub kind: Kind,
    pub status: RunStatus,
    /// Milliseconds since the Unix epoch; set by [`Run::new`], the run's end by `track`.
    pub start_ms: i64,
    pub params: Vec<(String, String)>,
    pub metrics: Vec<(String, f64)>,
    pub tags: Vec<(String, String)>,
    /// Relative path (`/`-separated) and content.
    pub artifacts: Vec<(String, Vec<u8>)>,
    /// Registered with the first artifact as its source.
    pub register: Option<ModelVersion>,
}

impl Run {
    /// A finished run starting now.
    pub fn new(kind: Kind, name: impl Into<String>) -> Run {
        Run {
            experiment: None,
            name: name.into(),
            kind,
            status: RunStatus::Finished,
            start_ms: crate::store::now_ms(),
            params: Vec::new(),
            metrics: Vec::new(),
            tags: Vec::new(),
            artifacts: Vec::new(),
            register: None,
        }
    }

    pub fn param(mut self, key: impl Into<String>, value: impl ToString) -> Run {
        self.params.push((key.into(), value.to_string()));
        self
    }

    pub fn metric(mut self, key: impl Into<String>, value: f64) -> Run {
        self.metrics.push((key.into(), value));
        self
    }

    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Run {
        self.tags.push((key.into(), value.into()));
        self
    }

    pub fn artifact(mut self, path: impl Into<String>, bytes: Vec<u8>) -> Run {
        self.artifacts.push((path.into(), bytes));
        self
    }
}

/// Counters for /health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TrackStats {
    pub logged: u64,
    pub dropped: u64,
    /// Queued or being logged.
    pub pending: u64,
}

/// Shared by the handles and the worker.
#[derive(Default)]
struct Counters {
    logged: AtomicU64,
    dropped: AtomicU64,
    pending: AtomicU64,
    /// Woken each time a run leaves `pending`.
    settled: Notify,
}

impl Counters {
    fn settle(&self, logged: bool) {
        let counter = if logged { &self.logged } else { &self.dropped };
        counter.fetch_add(1, Ordering::Relaxed);
        self.pending.fetch_sub(1, Ordering::SeqCst);
        self.settled.notify_waiters();
    }
}

/// The handle the service holds; clones share one queue and one worker. The worker stops when
/// the last handle is dropped or the runtime shuts down; runs still queued then are lost.
#[derive(Clone)]
pub struct Tracker {
    queue: mpsc::Sender<(Run, i64)>,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for Tracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracker")
            .field("stats", &self.stats())
            .finish()
    }
}

impl Tracker {
    /// The tracker configured by `MLFLOW_TRACKING_URI` and `MLFLOW_EXPERIMENT_NAME`, `None`
    /// (tracking off) when the URI is unset, empty or not HTTP. Call within a Tokio runtime.
    pub fn from_env() -> Option<Tracker> {
        let uri = std::env::var("MLFLOW_TRACKING_URI").ok();
        let experiment = std::env::var("MLFLOW_EXPERIMENT_NAME").ok();
        let (uri, experiment) = config(uri, experiment)?;
        Some(Tracker::new(&uri, &experiment, QUEUE_CAPACITY))
    }

    /// Logs to the server at `uri` (e.g. `http://127.0.0.1:5000`), in `experiment` unless a run
    /// names another, keeping at most `capacity` runs waiting. Spawns the worker: call within
    /// a Tokio runtime.
    pub fn new(uri: &str, experiment: &str, capacity: usize) -> Tracker {
        let (queue, receiver) = mpsc::channel(capacity.max(1));
        let counters = Arc::new(Counters::default());
        let worker = queue::Worker::new(
            MlflowClient::new(uri),
            experiment.to_string(),
            counters.clone(),
        );
        tokio::spawn(worker.run(receiver));
        Tracker { queue, counters }
    }

    /// Queues `run` for logging and returns at once; when the queue is full or the worker has
    /// stopped, the run is dropped and counted.
    pub fn track(&self, run: Run) {
        let end_ms = crate::store::now_ms();
        self.counters.pending.fetch_add(1, Ordering::SeqCst);
        if self.queue.try_send((run, end_ms)).is_err() {
            self.counters.settle(false);
        }
    }

    pub fn stats(&self) -> TrackStats {
        TrackStats {
            logged: self.counters.logged.load(Ordering::Relaxed),
            dropped: self.counters.dropped.load(Ordering::Relaxed),
            pending: self.counters.pending.load(Ordering::SeqCst),
        }
    }

    /// Waits until every run tracked so far is logged or dropped, or `timeout` passes; true
    /// when nothing is pending. A Lambda handler calls this before it returns, since the
    /// process may be frozen afterwards.
    pub async fn flush(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Created before the check, so a run settling in between still wakes it.
            let settled = self.counters.settled.notified();
            if self.counters.pending.load(Ordering::SeqCst) == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, settled).await.is_err() {
                return self.counters.pending.load(Ordering::SeqCst) == 0;
            }
        }
    }
}

/// Tracking URI and experiment from the two settings, `None` when tracking is off.
fn config(uri: Option<String>, experiment: Option<String>) -> Option<(String, String)> {
    let uri = uri
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty())?;
    if !(uri.starts_with("http://") || uri.starts_with("https://")) {
        tracing::warn!(%uri, "MLFLOW_TRACKING_URI is not an http(s) URL; tracking is off");
        return None;
    }
    let experiment = experiment
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| DEFAULT_EXPERIMENT.to_string());
    Some((uri, experiment))
}

#[cfg(test)]
mod tests;
