//! The MLflow tracking server's REST API (`/api/2.0/mlflow/...`), its artifact proxy
//! (`/api/2.0/mlflow-artifacts/...`, served when the server runs with `--artifacts-destination`)
//! and its model registry: the calls the tracker makes, and readers for tests and admins.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{RequestBuilder, Response, Url};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::wire::{self, WireRun};
use super::{
    ArtifactFile, LoggedRun, ModelVersion, RegisteredVersion, RunInfo, RunStatus, TrackError,
};

/// Per request: tracking is worth less than a worker stuck behind a silent server.
const TIMEOUT: Duration = Duration::from_secs(5);
/// The scheme of artifact URIs the server proxies.
const PROXIED: &str = "mlflow-artifacts:";

/// A client of one tracking server. Clones share the connection pool and the experiment ids.
#[derive(Clone)]
pub struct MlflowClient {
    base_url: String,
    http: reqwest::Client,
    /// Experiment name → id, filled on first use.
    experiments: Arc<Mutex<HashMap<String, String>>>,
}

impl std::fmt::Debug for MlflowClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MlflowClient")
            .field("base_url", &self.base_url)
            .finish()
    }
}

impl MlflowClient {
    /// A client of the server at `base_url`, e.g. `http://127.0.0.1:5000`.
    pub fn new(base_url: &str) -> MlflowClient {
        MlflowClient {
            base_url: base_url.trim().to_string(),
            http: reqwest::Client::builder()
                .timeout(TIMEOUT)
                .connect_timeout(TIMEOUT)
                .build()
                .unwrap_or_default(),
            experiments: Arc::default(),
        }
    }

    /// The id of the experiment `name`, created when missing (another process creating it at
    /// the same time is fine).
    pub async fn experiment_id(&self, name: &str) -> Result<String, TrackError> {
        if let Some(id) = self.cached_experiment(name) {
            return Ok(id);
        }
        let id = match self.experiment_by_name(name).await? {
            Some(id) => id,
            None => match self.create_experiment(name).await {
                Ok(id) => id,
                Err(e) if e.code() == Some("RESOURCE_ALREADY_EXISTS") => {
                    self.experiment_by_name(name).await?.ok_or_else(|| {
                        TrackError::Malformed(format!("experiment {name:?} exists but not found"))
                    })?
                }
                Err(e) => return Err(e),
            },
        };
        self.experiments
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_string(), id.clone());
        Ok(id)
    }

    fn cached_experiment(&self, name: &str) -> Option<String> {
        let cache = self.experiments.lock().unwrap_or_else(|e| e.into_inner());
        cache.get(name).cloned()
    }

    async fn experiment_by_name(&self, name: &str) -> Result<Option<String>, TrackError> {
        let url = self.endpoint(&["mlflow", "experiments", "get-by-name"])?;
        let request = self.http.get(url).query(&[("experiment_name", name)]);
        let answer: Value = match read(request).await {
            Err(e) if e.code() == Some("RESOURCE_DOES_NOT_EXIST") => return Ok(None),
            other => other?,
        };
        let experiment = &answer["experiment"];
        if experiment["lifecycle_stage"] == "deleted" {
            return Err(TrackError::Invalid(format!(
                "experiment {name:?} is deleted: restore it or set another MLFLOW_EXPERIMENT_NAME"
            )));
        }
        string(experiment, "experiment_id").map(Some)
    }

    async fn create_experiment(&self, name: &str) -> Result<String, TrackError> {
        let answer = self
            .post(
                &["mlflow", "experiments", "create"],
                &json!({ "name": name }),
            )
            .await?;
        string(&answer, "experiment_id")
    }

    /// Starts a run; its `artifact_uri` says where its artifacts go.
    pub async fn create_run(
        &self,
        experiment_id: &str,
        name: &str,
        start_ms: i64,
        tags: &[(String, String)],
    ) -> Result<RunInfo, TrackError> {
        let body = json!({
            "experiment_id": experiment_id,
            "run_name": name,
            "start_time": start_ms,
            "tags": wire::tags(tags),
        });
        let answer = self.post(&["mlflow", "runs", "create"], &body).await?;
        let run: WireRun = decode(answer["run"].clone())?;
        Ok(LoggedRun::from(run).info)
    }

    /// Logs params and metrics in as few `log-batch` calls as MLflow's limits allow; long
    /// values are cut.
    pub async fn log_batch(
        &self,
        run_id: &str,
        params: &[(String, String)],
        metrics: &[(String, f64)],
        timestamp_ms: i64,
    ) -> Result<(), TrackError> {
        for batch in wire::batches(params, metrics, timestamp_ms) {
            let body = json!({
                "run_id": run_id,
                "params": batch.params,
                "metrics": batch.metrics,
            });
            self.post(&["mlflow", "runs", "log-batch"], &body).await?;
        }
        Ok(())
    }

    /// Ends a run.
    pub async fn finish_run(
        &self,
        run_id: &str,
        status: RunStatus,
        end_ms: i64,
    ) -> Result<(), TrackError> {
        let body = json!({ "run_id": run_id, "status": status.as_str(), "end_time": end_ms });
        self.post(&["mlflow", "runs", "update"], &body).await?;
        Ok(())
    }

    /// Uploads `bytes` to `path` under a run's `artifact_uri`.
    pub async fn upload_artifact(
        &self,
        artifact_uri: &str,
        path: &str,
        bytes: Vec<u8>,
    ) -> Result<(), TrackError> {
        let url = self.artifact_url(artifact_uri, path)?;
        send(self.http.put(url).body(bytes)).await?;
        Ok(())
    }

    /// Creates a version of the registered model `version.model` (and the model when new)
    /// pointing at `source`; returns the version number.
    pub async fn register_version(
        &self,
        version: &ModelVersion,
        source: &str,
        run_id: &str,
    ) -> Result<String, TrackError> {
        let model = json!({ "name": version.model });
        match self
            .post(&["mlflow", "registered-models", "create"], &model)
            .await
        {
            Err(e) if e.code() != Some("RESOURCE_ALREADY_EXISTS") => return Err(e),
            _ => {}
        }
        let body = json!({
            "name": version.model,
            "source": source,
            "run_id": run_id,
            "description": version.description,
            "tags": wire::tags(&version.tags),
        });
        let answer = self
            .post(&["mlflow", "model-versions", "create"], &body)
            .await?;
        string(&answer["model_version"], "version")
    }

    pub async fn get_run(&self, run_id: &str) -> Result<LoggedRun, TrackError> {
        let url = self.endpoint(&["mlflow", "runs", "get"])?;
        let answer: Value = read(self.http.get(url).query(&[("run_id", run_id)])).await?;
        Ok(decode::<WireRun>(answer["run"].clone())?.into())
    }

    /// Runs of these experiments matching an MLflow filter (e.g. `tags.\`rag.kind\` = 'ingest'`),
    /// newest first, at most `max_results`.
    pub async fn search_runs(
        &self,
        experiment_ids: &[String],
        filter: &str,
        max_results: u32,
    ) -> Result<Vec<LoggedRun>, TrackError> {
        let body = json!({
            "experiment_ids": experiment_ids,
            "filter": filter,
            "max_results": max_results,
        });
        let answer = self.post(&["mlflow", "runs", "search"], &body).await?;
        let runs: Vec<WireRun> = decode(answer.get("runs").cloned().unwrap_or(json!([])))?;
        Ok(runs.into_iter().map(LoggedRun::from).collect())
    }

    /// The files and folders directly under `path` (`""`: the root) of a run's artifacts.
    pub async fn list_artifacts(
        &self,
        artifact_uri: &str,
        path: &str,
    ) -> Result<Vec<ArtifactFile>, TrackError> {
        let mut folder = proxied_root(artifact_uri)?;
        folder.extend(segments(path, true)?);
        let url = self.endpoint(&["mlflow-artifacts", "artifacts"])?;
        let request = self.http.get(url).query(&[("path", folder.join("/"))]);
        let answer: Value = read(request).await?;
        decode(answer.get("files").cloned().unwrap_or(json!([])))
    }

    pub async fn download_artifact(
        &self,
        artifact_uri: &str,
        path: &str,
    ) -> Result<Vec<u8>, TrackError> {
        let url = self.artifact_url(artifact_uri, path)?;
        let response = send(self.http.get(url)).await?;
        let bytes = response.bytes().await.map_err(unavailable)?;
        Ok(bytes.to_vec())
    }

    /// The versions of a registered model.
    pub async fn model_versions(&self, name: &str) -> Result<Vec<RegisteredVersion>, TrackError> {
        let quote = ['\'', '"']
            .into_iter()
            .find(|q| !name.contains(*q))
            .ok_or_else(|| TrackError::Invalid(format!("model name {name:?} has both quotes")))?;
        let url = self.endpoint(&["mlflow", "model-versions", "search"])?;
        let filter = format!("name={quote}{name}{quote}");
        let answer: Value = read(self.http.get(url).query(&[("filter", filter)])).await?;
        decode(answer.get("model_versions").cloned().unwrap_or(json!([])))
    }

    async fn post(&self, path: &[&str], body: &Value) -> Result<Value, TrackError> {
        read(self.http.post(self.endpoint(path)?).json(body)).await
    }

    /// `{base}/api/2.0/{path...}`, each segment percent-encoded.
    fn endpoint(&self, path: &[&str]) -> Result<Url, TrackError> {
        let mut url = Url::parse(&self.base_url)
            .map_err(|e| TrackError::Invalid(format!("tracking URI {:?}: {e}", self.base_url)))?;
        url.path_segments_mut()
            .map_err(|()| TrackError::Invalid(format!("tracking URI {:?}", self.base_url)))?
            .pop_if_empty()
            .extend(["api", "2.0"])
            .extend(path);
        Ok(url)
    }

    /// Where the proxy serves `path` of the run whose artifacts are at `artifact_uri`.
    fn artifact_url(&self, artifact_uri: &str, path: &str) -> Result<Url, TrackError> {
        let root = proxied_root(artifact_uri)?;
        let path = segments(path, false)?;
        let mut all = vec!["mlflow-artifacts", "artifacts"];
        all.extend(root);
        all.extend(path);
        self.endpoint(&all)
    }
}

/// The folders of `mlflow-artifacts:/1/<run>/artifacts` (or `mlflow-artifacts://host/1/...`).
fn proxied_root(artifact_uri: &str) -> Result<Vec<&str>, TrackError> {
    let rest = artifact_uri.strip_prefix(PROXIED).ok_or_else(|| {
        TrackError::Invalid(format!(
            "artifact URI {artifact_uri:?} is not served by the tracking server \
             (start it with --artifacts-destination)"
        ))
    })?;
    let rest = match rest.strip_prefix("//") {
        Some(authority_and_path) => authority_and_path.split_once('/').map_or("", |(_, p)| p),
        None => rest,
    };
    Ok(rest.split('/').filter(|s| !s.is_empty()).collect())
}

/// The segments of a relative artifact path; `.`, `..` and empty segments are refused.
fn segments(path: &str, allow_empty: bool) -> Result<Vec<&str>, TrackError> {
    if allow_empty && path.is_empty() {
        return Ok(Vec::new());
    }
    let parts: Vec<&str> = path.split('/').collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || *p == "." || *p == "..")
    {
        return Err(TrackError::Invalid(format!("artifact path {path:?}")));
    }
    Ok(parts)
}

/// Sends a request; a non-2xx answer becomes [`TrackError::Status`] with MLflow's error code.
async fn send(request: RequestBuilder) -> Result<Response, TrackError> {
    let response = request.send().await.map_err(unavailable)?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.text().await.unwrap_or_default();
    let error: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let message = match error["message"].as_str() {
        Some(message) => message.to_string(),
        None => body.chars().take(300).collect(),
    };
    Err(TrackError::Status {
        status: status.as_u16(),
        code: error["error_code"].as_str().unwrap_or_default().to_string(),
        message,
    })
}

/// Sends a request and reads its JSON answer.
async fn read<T: DeserializeOwned>(request: RequestBuilder) -> Result<T, TrackError> {
    let text = send(request).await?.text().await.map_err(unavailable)?;
    serde_json::from_str(&text).map_err(|e| TrackError::Malformed(e.to_string()))
}

fn decode<T: DeserializeOwned>(value: Value) -> Result<T, TrackError> {
    serde_json::from_value(value).map_err(|e| TrackError::Malformed(e.to_string()))
}

fn string(value: &Value, field: &str) -> Result<String, TrackError> {
    value[field]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| TrackError::Malformed(format!("no {field} in {value}")))
}

fn unavailable(e: reqwest::Error) -> TrackError {
    TrackError::Unavailable(e.without_url().to_string())
}
