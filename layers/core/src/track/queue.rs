//! The background task that logs queued runs one after another. A run that fails is dropped,
//! never retried; after an outage (unreachable, 5xx, 429) the runs queued in the next
//! [`PAUSE`] are dropped without calling the server, so a down server costs one attempt per
//! pause and the queue drains instead of waiting out timeouts.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{Counters, KIND_TAG, MlflowClient, Run, RunStatus, TrackError};

/// How long runs are dropped unsent after an outage.
const PAUSE: Duration = Duration::from_secs(5);
/// At most one warning this often; it counts the runs dropped since the last one.
const WARN_EVERY: Duration = Duration::from_secs(60);

pub(super) struct Worker {
    client: MlflowClient,
    experiment: String,
    counters: Arc<Counters>,
    paused_until: Option<Instant>,
    warned_at: Option<Instant>,
    dropped_since_warning: u64,
}

impl Worker {
    pub(super) fn new(client: MlflowClient, experiment: String, counters: Arc<Counters>) -> Self {
        Worker {
            client,
            experiment,
            counters,
            paused_until: None,
            warned_at: None,
            dropped_since_warning: 0,
        }
    }

    /// Logs runs until every sender is gone.
    pub(super) async fn run(mut self, mut queue: mpsc::Receiver<(Run, i64)>) {
        while let Some((run, end_ms)) = queue.recv().await {
            let logged = self.handle(&run, end_ms).await;
            self.counters.settle(logged);
        }
    }

    async fn handle(&mut self, run: &Run, end_ms: i64) -> bool {
        if self
            .paused_until
            .is_some_and(|until| Instant::now() < until)
        {
            self.dropped_since_warning += 1;
            return false;
        }
        let experiment = run.experiment.as_deref().unwrap_or(&self.experiment);
        let Err(e) = log(&self.client, experiment, run, end_ms).await else {
            return true;
        };
        if e.is_outage() {
            self.paused_until = Some(Instant::now() + PAUSE);
        }
        self.dropped_since_warning += 1;
        if self.warned_at.is_none_or(|at| at.elapsed() >= WARN_EVERY) {
            tracing::warn!(
                error = %e,
                run = %run.name,
                dropped = self.dropped_since_warning,
                "MLflow tracking failed; runs dropped"
            );
            self.warned_at = Some(Instant::now());
            self.dropped_since_warning = 0;
        }
        false
    }
}

/// Creates the run, logs its data and artifacts, ends it, then registers its model version.
async fn log(
    client: &MlflowClient,
    experiment: &str,
    run: &Run,
    end_ms: i64,
) -> Result<(), TrackError> {
    let experiment_id = client.experiment_id(experiment).await?;
    let mut tags = run.tags.clone();
    tags.push((KIND_TAG.to_string(), run.kind.as_str().to_string()));
    let info = client
        .create_run(&experiment_id, &run.name, run.start_ms, &tags)
        .await?;
    let content = async {
        client
            .log_batch(&info.run_id, &run.params, &run.metrics, end_ms)
            .await?;
        for (path, bytes) in &run.artifacts {
            client
                .upload_artifact(&info.artifact_uri, path, bytes.clone())
                .await?;
        }
        Ok::<_, TrackError>(())
    };
    if let Err(e) = content.await {
        // A refused request leaves a server able to close the run; an outage does not.
        if !e.is_outage() {
            let _ = client
                .finish_run(&info.run_id, RunStatus::Failed, end_ms)
                .await;
        }
        return Err(e);
    }
    client.finish_run(&info.run_id, run.status, end_ms).await?;
    if let Some(version) = &run.register {
        let source = match run.artifacts.first() {
            Some((path, _)) => format!("{}/{path}", info.artifact_uri),
            None => info.artifact_uri.clone(),
        };
        client
            .register_version(version, &source, &info.run_id)
            .await?;
    }
    Ok(())
}
