//! The tracker against a real MLflow tracking server (`RAG_TEST_MLFLOW_URI`, default
//! http://127.0.0.1:5000, started with `--artifacts-destination`): runs handed to the
//! `Tracker` are read back through the REST API with their params, metrics, tags, artifacts
//! and registered model versions.

#[path = "../../../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use rag_core::track::{Kind, MlflowClient, ModelVersion, Run, TrackStats, Tracker};

const RUNS: usize = 3;

fn manifest(i: usize) -> Vec<u8> {
    format!("{{\"collection\":\"default\",\"version\":{i}}}").into_bytes()
}

fn index_run(i: usize, model: &str) -> Run {
    let mut run = Run::new(Kind::Index, format!("index v{i}"))
        .param("version", i)
        .param("chunk_tokens", 180)
        .param("long", "x".repeat(7000))
        .metric("chunks", 100.0 + i as f64)
        .metric("seconds", 0.25)
        .tag("collection", "default")
        .artifact("index/manifest.json", manifest(i))
        .artifact("index/notes.txt", b"second artifact".to_vec());
    run.register = Some(ModelVersion {
        model: model.to_string(),
        description: format!("index v{i}"),
        tags: vec![("collection".into(), "default".into())],
    });
    run
}

fn value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn tracked_runs_read_back_from_mlflow() {
    let url =
        std::env::var("RAG_TEST_MLFLOW_URI").unwrap_or_else(|_| "http://127.0.0.1:5000".into());
    if !support::service_or_skip(&url, "MLflow tracking server") {
        return;
    }
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let experiment = format!("rag-test-{}-{stamp}", std::process::id());
    let model = format!("{experiment}-index");

    let tracker = Tracker::new(&url, &experiment, 64);
    let started = Instant::now();
    for i in 0..RUNS {
        tracker.track(index_run(i, &model));
    }
    assert!(tracker.flush(Duration::from_secs(60)).await, "flush");
    eprintln!("{RUNS} runs logged in {:?}", started.elapsed());
    assert_eq!(
        tracker.stats(),
        TrackStats {
            logged: RUNS as u64,
            dropped: 0,
            pending: 0
        }
    );

    let client = MlflowClient::new(&url);
    let experiment_id = client.experiment_id(&experiment).await.expect("experiment");
    let runs = client
        .search_runs(&[experiment_id], "tags.`rag.kind` = 'index'", 10)
        .await
        .expect("search");
    assert_eq!(runs.len(), RUNS);
    for run in &runs {
        let i: usize = value(&run.params, "version")
            .and_then(|v| v.parse().ok())
            .expect("version param");
        assert_eq!(run.info.run_name, format!("index v{i}"));
        assert_eq!(run.info.status, "FINISHED");
        assert!(run.info.end_time >= run.info.start_time);
        assert_eq!(value(&run.params, "chunk_tokens"), Some("180"));
        assert_eq!(value(&run.params, "long").map(str::len), Some(6000));
        assert!(run.metrics.contains(&("chunks".into(), 100.0 + i as f64)));
        assert!(run.metrics.contains(&("seconds".into(), 0.25)));
        assert_eq!(value(&run.tags, "rag.kind"), Some("index"));
        assert_eq!(value(&run.tags, "collection"), Some("default"));
        assert_eq!(
            client.get_run(&run.info.run_id).await.expect("get").info,
            run.info
        );

        let uri = &run.info.artifact_uri;
        let root = client.list_artifacts(uri, "").await.expect("list root");
        assert_eq!(root.len(), 1);
        assert!(root[0].is_dir && root[0].path == "index", "{root:?}");
        let mut files: Vec<(String, Option<u64>)> = client
            .list_artifacts(uri, "index")
            .await
            .expect("list folder")
            .into_iter()
            .map(|f| (f.path, f.file_size))
            .collect();
        files.sort();
        assert_eq!(
            files,
            [
                ("manifest.json".into(), Some(manifest(i).len() as u64)),
                ("notes.txt".into(), Some(15)),
            ]
        );
        let bytes = client
            .download_artifact(uri, "index/manifest.json")
            .await
            .expect("download");
        assert_eq!(bytes, manifest(i));
    }

    let versions = client.model_versions(&model).await.expect("versions");
    assert_eq!(versions.len(), RUNS);
    for version in &versions {
        let run = runs
            .iter()
            .find(|r| r.info.run_id == version.run_id)
            .expect("the version's run");
        assert_eq!(
            version.source,
            format!("{}/index/manifest.json", run.info.artifact_uri)
        );
        assert_eq!(version.description, run.info.run_name);
        assert_eq!(version.status, "READY");
    }
}
