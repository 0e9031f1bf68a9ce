//! MLflow's JSON shapes, and the cutting of a run's data into requests within MLflow's limits
//! (`mlflow/utils/validation.py`): a `log-batch` holds at most 100 params, 1000 metrics and
//! 1000 entries in all; param values above 6000 characters and tag values above 5000 (the
//! smallest limit of any backend) are refused rather than cut, so we cut them.

use serde::{Deserialize, Serialize};

const PARAMS_PER_BATCH: usize = 100;
const ENTRIES_PER_BATCH: usize = 1000;
const PARAM_VALUE_CHARS: usize = 6000;
const TAG_VALUE_CHARS: usize = 5000;

/// A param or tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct KeyValue {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Metric {
    pub key: String,
    pub value: f64,
    pub timestamp: i64,
    #[serde(default)]
    pub step: i64,
}

/// The body of one `runs/log-batch` request, without the run id.
#[derive(Debug, Default, PartialEq, Serialize)]
pub(super) struct Batch {
    pub params: Vec<KeyValue>,
    pub metrics: Vec<Metric>,
}

/// Tags with values cut to what every backend stores.
pub(super) fn tags(pairs: &[(String, String)]) -> Vec<KeyValue> {
    pairs
        .iter()
        .map(|(key, value)| KeyValue {
            key: key.clone(),
            value: truncate(value, TAG_VALUE_CHARS),
        })
        .collect()
}

/// Params and metrics cut into `log-batch` requests. A key given twice keeps its last value
/// (MLflow refuses a batch with a duplicated param); non-finite metrics are left out (JSON
/// cannot carry them).
pub(super) fn batches(
    params: &[(String, String)],
    metrics: &[(String, f64)],
    timestamp: i64,
) -> Vec<Batch> {
    let mut unique: Vec<KeyValue> = Vec::with_capacity(params.len());
    for (key, value) in params {
        let value = truncate(value, PARAM_VALUE_CHARS);
        match unique.iter_mut().find(|p| &p.key == key) {
            Some(existing) => existing.value = value,
            None => unique.push(KeyValue {
                key: key.clone(),
                value,
            }),
        }
    }
    let mut metrics = metrics
        .iter()
        .filter(|(_, value)| value.is_finite())
        .map(|(key, value)| Metric {
            key: key.clone(),
            value: *value,
            timestamp,
            step: 0,
        })
        .peekable();
    let mut params = unique.into_iter().peekable();
    let mut out = Vec::new();
    while params.peek().is_some() || metrics.peek().is_some() {
        let params: Vec<KeyValue> = params.by_ref().take(PARAMS_PER_BATCH).collect();
        let room = ENTRIES_PER_BATCH - params.len();
        let metrics = metrics.by_ref().take(room).collect();
        out.push(Batch { params, metrics });
    }
    out
}

/// At most `max` characters (MLflow counts characters, not bytes).
fn truncate(value: &str, max: usize) -> String {
    value.chars().take(max).collect()
}

/// A run's identity and state, as MLflow reports it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RunInfo {
    pub run_id: String,
    pub experiment_id: String,
    #[serde(default)]
    pub run_name: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub start_time: Option<i64>,
    #[serde(default)]
    pub end_time: Option<i64>,
    /// e.g. `mlflow-artifacts:/1/<run_id>/artifacts` when the server proxies artifacts.
    #[serde(default)]
    pub artifact_uri: String,
}

/// A run read back: its info and the data logged to it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedRun {
    pub info: RunInfo,
    pub params: Vec<(String, String)>,
    /// The latest value of each metric.
    pub metrics: Vec<(String, f64)>,
    pub tags: Vec<(String, String)>,
}

/// `{"run": {"info": ..., "data": ...}}` and each element of `runs/search`'s `runs`.
#[derive(Deserialize)]
pub(super) struct WireRun {
    info: RunInfo,
    #[serde(default)]
    data: WireData,
}

#[derive(Default, Deserialize)]
struct WireData {
    #[serde(default)]
    params: Vec<KeyValue>,
    #[serde(default)]
    metrics: Vec<Metric>,
    #[serde(default)]
    tags: Vec<KeyValue>,
}

impl From<WireRun> for LoggedRun {
    fn from(run: WireRun) -> LoggedRun {
        let pairs = |list: Vec<KeyValue>| list.into_iter().map(|p| (p.key, p.value)).collect();
        LoggedRun {
            info: run.info,
            params: pairs(run.data.params),
            metrics: run
                .data
                .metrics
                .into_iter()
                .map(|m| (m.key, m.value))
                .collect(),
            tags: pairs(run.data.tags),
        }
    }
}

/// One entry of an artifact listing.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ArtifactFile {
    /// Relative to the listed folder.
    pub path: String,
    #[serde(default)]
    pub is_dir: bool,
    #[serde(default)]
    pub file_size: Option<u64>,
}

/// A version of a registered model.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RegisteredVersion {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub run_id: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub description: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_stay_within_mlflow_limits_and_cut_long_values() {
        let params: Vec<(String, String)> = (0..150)
            .map(|i| (format!("p{i}"), "v".repeat(if i == 0 { 7000 } else { 3 })))
            .collect();
        let metrics: Vec<(String, f64)> = (0..1500).map(|i| (format!("m{i}"), 1.0)).collect();
        let out = batches(&params, &metrics, 42);
        for batch in &out {
            assert!(batch.params.len() <= 100);
            assert!(batch.params.len() + batch.metrics.len() <= 1000);
        }
        assert_eq!(out.iter().map(|b| b.params.len()).sum::<usize>(), 150);
        assert_eq!(out.iter().map(|b| b.metrics.len()).sum::<usize>(), 1500);
        assert_eq!(out[0].params[0].value.chars().count(), 6000);
        assert_eq!(out[0].metrics[0].timestamp, 42);
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn duplicate_params_keep_the_last_value_and_bad_metrics_are_left_out() {
        let params = [("k".into(), "1".into()), ("k".into(), "2".into())];
        let metrics = [("nan".into(), f64::NAN), ("ok".into(), 0.5)];
        let out = batches(&params, &metrics, 0);
        assert_eq!(out.len(), 1);
        assert_eq!(
            out[0].params,
            vec![KeyValue {
                key: "k".into(),
                value: "2".into()
            }]
        );
        assert_eq!(out[0].metrics.len(), 1);
        assert_eq!(out[0].metrics[0].key, "ok");
        assert!(batches(&[], &[], 0).is_empty());
    }

    #[test]
    fn multibyte_values_are_cut_on_characters() {
        let tag = tags(&[("t".into(), "é".repeat(6000))]);
        assert_eq!(tag[0].value.chars().count(), 5000);
    }
}
