//! The tracker against a local server speaking MLflow's wire format: the requests' shapes,
//! and what happens to runs when the server fails, stalls or is gone.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use serde_json::{Value, json};

use super::*;

/// A request the server received.
#[derive(Clone, Debug)]
struct Seen {
    method: Method,
    /// Path and query.
    uri: String,
    body: Bytes,
}

impl Seen {
    fn path(&self) -> &str {
        self.uri.split('?').next().unwrap_or_default()
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

/// Answers a request given every request so far (the last is the current one).
type Answer = Arc<dyn Fn(&[Seen]) -> (u16, Value) + Send + Sync>;

#[derive(Clone)]
struct Fake {
    seen: Arc<Mutex<Vec<Seen>>>,
    delay: Duration,
    answer: Answer,
}

impl Fake {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

async fn reply(
    State(fake): State<Fake>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> (StatusCode, String) {
    let (status, answer) = {
        let mut seen = fake.seen.lock().expect("lock");
        seen.push(Seen {
            method,
            uri: uri.to_string(),
            body,
        });
        (fake.answer)(&seen)
    };
    tokio::time::sleep(fake.delay).await;
    (
        StatusCode::from_u16(status).expect("status"),
        answer.to_string(),
    )
}

async fn serve(delay: Duration, answer: Answer) -> (String, Fake) {
    let fake = Fake {
        seen: Arc::default(),
        delay,
        answer,
    };
    let app = Router::new().fallback(reply).with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), fake)
}

fn error(code: &str) -> Value {
    json!({ "error_code": code, "message": format!("{code} for the test") })
}

/// A healthy MLflow with no experiments yet: experiment 7, runs r1, r2, ….
fn mlflow(seen: &[Seen]) -> (u16, Value) {
    let path = seen.last().expect("current").path().to_string();
    match path.trim_start_matches("/api/2.0/mlflow/") {
        "experiments/get-by-name" => (404, error("RESOURCE_DOES_NOT_EXIST")),
        "experiments/create" => (200, json!({ "experiment_id": "7" })),
        "runs/create" => {
            let n = seen.iter().filter(|s| s.path() == path).count();
            let info = json!({
                "run_id": format!("r{n}"),
                "experiment_id": "7",
                "status": "RUNNING",
                "artifact_uri": format!("mlflow-artifacts:/7/r{n}/artifacts"),
            });
            (200, json!({ "run": { "info": info, "data": {} } }))
        }
        "registered-models/create" => (400, error("RESOURCE_ALREADY_EXISTS")),
        "model-versions/create" => (200, json!({ "model_version": { "version": "3" } })),
        _ => (200, json!({})),
    }
}

fn index_run() -> Run {
    let mut run = Run::new(Kind::Index, "index default v1")
        .param("chunk_tokens", 180)
        .param("model", "e5".repeat(4000))
        .metric("chunks", 42.0)
        .metric("seconds", 1.5)
        .tag("collection", "default")
        .artifact("manifest.json", b"{\"version\":1}".to_vec());
    run.register = Some(ModelVersion {
        model: "index-default".into(),
        description: "index v1".into(),
        tags: vec![("collection".into(), "default".into())],
    });
    run
}

#[tokio::test]
async fn runs_are_logged_with_mlflow_wire_format() {
    let (url, fake) = serve(Duration::ZERO, Arc::new(mlflow)).await;
    let tracker = Tracker::new(&url, "rag-test", 16);
    tracker.track(index_run());
    tracker.track(Run::new(Kind::Query, "query"));
    assert!(tracker.flush(Duration::from_secs(10)).await);
    assert_eq!(
        tracker.stats(),
        TrackStats {
            logged: 2,
            dropped: 0,
            pending: 0
        }
    );

    let seen = fake.seen();
    let calls: Vec<String> = seen
        .iter()
        .map(|s| format!("{} {}", s.method, s.uri))
        .collect();
    let expected = [
        "GET /api/2.0/mlflow/experiments/get-by-name?experiment_name=rag-test",
        "POST /api/2.0/mlflow/experiments/create",
        "POST /api/2.0/mlflow/runs/create",
        "POST /api/2.0/mlflow/runs/log-batch",
        "PUT /api/2.0/mlflow-artifacts/artifacts/7/r1/artifacts/manifest.json",
        "POST /api/2.0/mlflow/runs/update",
        "POST /api/2.0/mlflow/registered-models/create",
        "POST /api/2.0/mlflow/model-versions/create",
        // The experiment id is cached; a run without data needs no log-batch.
        "POST /api/2.0/mlflow/runs/create",
        "POST /api/2.0/mlflow/runs/update",
    ];
    assert_eq!(calls, expected);

    assert_eq!(seen[1].json(), json!({ "name": "rag-test" }));
    let create = seen[2].json();
    assert_eq!(create["experiment_id"], "7");
    assert_eq!(create["run_name"], "index default v1");
    assert!(create["start_time"].as_i64().is_some_and(|t| t > 0));
    let tags = create["tags"].as_array().expect("tags");
    assert!(tags.contains(&json!({ "key": "rag.kind", "value": "index" })));
    assert!(tags.contains(&json!({ "key": "collection", "value": "default" })));

    let batch = seen[3].json();
    assert_eq!(batch["run_id"], "r1");
    assert_eq!(
        batch["params"][0],
        json!({ "key": "chunk_tokens", "value": "180" })
    );
    assert_eq!(
        batch["params"][1]["value"].as_str().map(str::len),
        Some(6000)
    );
    let metric = &batch["metrics"][0];
    assert_eq!(
        (&metric["key"], &metric["value"], &metric["step"]),
        (&json!("chunks"), &json!(42.0), &json!(0))
    );
    assert!(metric["timestamp"].as_i64() >= create["start_time"].as_i64());

    assert_eq!(&seen[4].body[..], b"{\"version\":1}");
    let update = seen[5].json();
    assert_eq!(update["run_id"], "r1");
    assert_eq!(update["status"], "FINISHED");
    assert!(update["end_time"].as_i64() >= create["start_time"].as_i64());

    assert_eq!(seen[6].json(), json!({ "name": "index-default" }));
    let version = seen[7].json();
    assert_eq!(
        version["source"],
        "mlflow-artifacts:/7/r1/artifacts/manifest.json"
    );
    assert_eq!(version["run_id"], "r1");
    assert_eq!(version["description"], "index v1");
    assert_eq!(
        version["tags"],
        json!([{ "key": "collection", "value": "default" }])
    );
    assert_eq!(seen[9].json()["run_id"], "r2");
}

#[tokio::test]
async fn an_experiment_created_meanwhile_is_read_again() {
    let answer = |seen: &[Seen]| {
        let current = seen.last().expect("current");
        if current.path().ends_with("/experiments/create") {
            return (400, error("RESOURCE_ALREADY_EXISTS"));
        }
        if seen.len() == 1 {
            return (404, error("RESOURCE_DOES_NOT_EXIST"));
        }
        let experiment = json!({ "experiment_id": "9", "lifecycle_stage": "active" });
        (200, json!({ "experiment": experiment }))
    };
    let (url, fake) = serve(Duration::ZERO, Arc::new(answer)).await;
    let client = MlflowClient::new(&url);
    assert_eq!(client.experiment_id("shared").await.expect("id"), "9");
    assert_eq!(client.experiment_id("shared").await.expect("cached"), "9");
    assert_eq!(fake.seen().len(), 3);
}

#[tokio::test]
async fn mlflow_errors_keep_their_code_and_bad_artifact_paths_are_refused() {
    let (url, fake) = serve(
        Duration::ZERO,
        Arc::new(|_: &[Seen]| (404, error("RESOURCE_DOES_NOT_EXIST"))),
    )
    .await;
    let client = MlflowClient::new(&url);
    let e = client.get_run("nope").await.expect_err("missing run");
    assert!(matches!(e, TrackError::Status { status: 404, .. }), "{e}");
    assert_eq!(e.code(), Some("RESOURCE_DOES_NOT_EXIST"));

    let root = "mlflow-artifacts:/1/r/artifacts";
    for path in ["../escape", "a//b", ""] {
        let e = client.upload_artifact(root, path, Vec::new()).await;
        assert!(matches!(e, Err(TrackError::Invalid(_))), "{path}: {e:?}");
    }
    let local = client
        .upload_artifact("/srv/mlruns/1/r/artifacts", "a", Vec::new())
        .await;
    assert!(matches!(local, Err(TrackError::Invalid(_))));
    assert_eq!(fake.seen().len(), 1);
}

#[tokio::test]
async fn server_errors_drop_and_count_runs_without_a_retry_storm() {
    let answer = |_: &[Seen]| (503, error("TEMPORARILY_UNAVAILABLE"));
    let (url, fake) = serve(Duration::ZERO, Arc::new(answer)).await;
    let tracker = Tracker::new(&url, "rag-test", 16);
    for i in 0..5 {
        tracker.track(Run::new(Kind::Query, format!("q{i}")));
    }
    assert!(tracker.flush(Duration::from_secs(10)).await);
    assert_eq!(
        tracker.stats(),
        TrackStats {
            logged: 0,
            dropped: 5,
            pending: 0
        }
    );
    // One attempt; the rest were dropped during the pause.
    assert_eq!(fake.seen().len(), 1);
}

#[tokio::test]
async fn a_refused_run_is_closed_as_failed_and_the_next_run_still_goes() {
    let answer = |seen: &[Seen]| {
        let current = seen.last().expect("current");
        let first_batch = current.path().ends_with("/runs/log-batch")
            && seen.iter().filter(|s| s.path() == current.path()).count() == 1;
        if first_batch {
            return (400, error("INVALID_PARAMETER_VALUE"));
        }
        mlflow(seen)
    };
    let (url, fake) = serve(Duration::ZERO, Arc::new(answer)).await;
    let tracker = Tracker::new(&url, "rag-test", 16);
    tracker.track(Run::new(Kind::Ingest, "bad").param("bad key!", 1));
    tracker.track(Run::new(Kind::Ingest, "good").param("pages", 3));
    assert!(tracker.flush(Duration::from_secs(10)).await);
    assert_eq!((tracker.stats().logged, tracker.stats().dropped), (1, 1));
    let seen = fake.seen();
    let updates: Vec<Value> = seen
        .iter()
        .filter(|s| s.path().ends_with("/runs/update"))
        .map(Seen::json)
        .collect();
    assert_eq!(updates[0]["run_id"], "r1");
    assert_eq!(updates[0]["status"], "FAILED");
    assert_eq!(updates[1]["run_id"], "r2");
    assert_eq!(updates[1]["status"], "FINISHED");
}

#[tokio::test]
async fn an_unreachable_server_drops_runs_promptly() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let tracker = Tracker::new(&format!("http://{addr}"), "rag-test", 16);
    for i in 0..3 {
        tracker.track(Run::new(Kind::Query, format!("q{i}")).metric("latency_ms", 12.0));
    }
    assert!(
        tracker.flush(Duration::from_secs(4)).await,
        "flush timed out"
    );
    assert_eq!(
        tracker.stats(),
        TrackStats {
            logged: 0,
            dropped: 3,
            pending: 0
        }
    );
}

#[tokio::test]
async fn track_returns_at_once_and_drops_when_a_stalled_server_fills_the_queue() {
    let (url, fake) = serve(Duration::from_secs(60), Arc::new(mlflow)).await;
    let tracker = Tracker::new(&url, "rag-test", 4);
    for i in 0..50 {
        tracker.track(Run::new(Kind::Query, format!("q{i}")));
    }
    let stats = tracker.stats();
    assert_eq!(stats.logged, 0);
    assert_eq!(stats.dropped + stats.pending, 50);
    // At most the queue's capacity, plus the run the worker holds, waits.
    assert!(stats.pending <= 5, "{stats:?}");
    assert!(!tracker.flush(Duration::from_millis(200)).await);
    assert_eq!(
        fake.seen().len(),
        1,
        "the worker is stuck on its first call"
    );
}

#[tokio::test]
async fn flush_waits_until_queued_runs_are_logged() {
    let (url, _fake) = serve(Duration::from_millis(50), Arc::new(mlflow)).await;
    let tracker = Tracker::new(&url, "rag-test", 16);
    for i in 0..3 {
        tracker.track(Run::new(Kind::Query, format!("q{i}")).metric("latency_ms", 9.0));
    }
    assert_eq!(tracker.stats().pending, 3);
    assert!(tracker.flush(Duration::from_secs(10)).await);
    assert_eq!(
        tracker.stats(),
        TrackStats {
            logged: 3,
            dropped: 0,
            pending: 0
        }
    );
    assert!(tracker.clone().flush(Duration::ZERO).await, "nothing left");
}

#[test]
fn tracking_is_off_without_an_http_uri() {
    let some = |s: &str| Some(s.to_string());
    assert_eq!(config(None, some("x")), None);
    assert_eq!(config(some("  "), None), None);
    assert_eq!(config(some("file:///tmp/mlruns"), None), None);
    assert_eq!(
        config(some("http://127.0.0.1:5000"), None),
        Some(("http://127.0.0.1:5000".into(), DEFAULT_EXPERIMENT.into()))
    );
    assert_eq!(
        config(some("https://mlflow.example"), some("support")),
        Some(("https://mlflow.example".into(), "support".into()))
    );
}
