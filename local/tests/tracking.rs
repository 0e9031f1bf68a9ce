//! `rag serve` with MLflow tracking (`MLFLOW_TRACKING_URI`) against a real tracking server
//! (`RAG_TEST_MLFLOW_URI`, default http://127.0.0.1:5000): every query, ingest and clustering
//! (and each feedback on an answer) is a run read back through the REST API, a published index version is registered with its
//! manifest; with the server gone, queries still answer and the dropped runs are counted.

mod common;

use common::Backend;

use std::time::{Duration, Instant};

use common::support;
use rag_core::track::{LoggedRun, MlflowClient};
use reqwest::blocking::Client;
use serde_json::{Value, json};

fn mlflow_uri() -> String {
    std::env::var("RAG_TEST_MLFLOW_URI").unwrap_or_else(|_| "http://127.0.0.1:5000".into())
}

fn login(server: &common::Server, user: &str) -> String {
    let login: Value = Client::new()
        .post(format!("{}/auth/login", server.base))
        .json(&json!({"username": user, "password": format!("{user}-password")}))
        .send()
        .and_then(|r| r.json())
        .expect("login");
    login["token"].as_str().expect("token").to_string()
}

fn ask(server: &common::Server, token: &str, question: &str) -> Value {
    let response = Client::new()
        .post(format!("{}/query", server.base))
        .bearer_auth(token)
        .json(&json!({ "question": question }))
        .send()
        .expect("query");
    assert_eq!(response.status().as_u16(), 200);
    response.json().expect("json")
}

/// /health's tracking counters once nothing is pending (or the deadline passed).
fn settled_tracking(server: &common::Server) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let health: Value = Client::new()
            .get(format!("{}/health", server.base))
            .send()
            .and_then(|r| r.json())
            .expect("health");
        let tracking = health["tracking"].clone();
        if tracking["pending"] == 0 || Instant::now() > deadline {
            return tracking;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn param<'a>(run: &'a LoggedRun, key: &str) -> &'a str {
    run.params
        .iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

fn metric(run: &LoggedRun, key: &str) -> Option<f64> {
    run.metrics.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
}

#[test]
fn queries_and_ingests_are_tracked_and_a_down_server_costs_nothing() {
    let uri = mlflow_uri();
    if !support::service_or_skip(&uri, "MLflow tracking server") {
        return;
    }
    let experiment = format!(
        "rag-e2e-{}-{}",
        std::process::id(),
        rag_core::store::now_ms()
    );
    let env = [
        ("MLFLOW_TRACKING_URI", uri.as_str()),
        ("MLFLOW_EXPERIMENT_NAME", experiment.as_str()),
    ];
    let Some(server) = common::start_with(Backend::Embedded, &env) else {
        return;
    };
    let token = login(&server, "alice");
    let questions = [
        "How do I reset my password?",
        "Comment configurer le VPN ?",
        "What is the recipe of a chocolate cake?",
    ];
    let answers: Vec<Value> = questions.iter().map(|q| ask(&server, &token, q)).collect();
    // Feedback on two answers: a run each, the verdict as a metric.
    let verdicts = [false, true];
    for (answer, useful) in answers.iter().zip(verdicts) {
        let id = answer["query_id"].as_str().expect("query_id");
        let given = Client::new()
            .post(format!("{}/queries/{id}/feedback", server.base))
            .bearer_auth(&token)
            .json(&json!({"useful": useful, "comment": "vu"}))
            .send()
            .expect("feedback");
        assert_eq!(given.status(), 200);
    }

    // An upload: one ingest run, and the new index version registered.
    let admin = login(&server, "admin");
    let pdf = std::fs::read(support::repo_root().join("data/pdf/procedures-support-it.pdf"))
        .expect("sample");
    let uploaded: Value = Client::new()
        .post(format!("{}/documents?name=second-copy.pdf", server.base))
        .bearer_auth(&admin)
        .header("content-type", "application/pdf")
        .body(pdf)
        .send()
        .and_then(|r| r.json())
        .expect("upload");
    assert_eq!(uploaded["published"], true, "{uploaded}");
    let version = uploaded["index_version"]
        .as_str()
        .expect("version")
        .to_string();

    // A clustering run of the three questions.
    let clustered: Value = Client::new()
        .post(format!("{}/clusters/run?k_min=2&k_max=2", server.base))
        .bearer_auth(&admin)
        .send()
        .and_then(|r| r.json())
        .expect("cluster run");
    assert_eq!(clustered["k"], 2, "{clustered}");

    let tracking = settled_tracking(&server);
    assert_eq!(tracking["dropped"], 0, "{tracking}");
    assert!(tracking["logged"].as_u64().unwrap_or(0) >= 6, "{tracking}");

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mlflow = MlflowClient::new(&uri);
    let id = runtime
        .block_on(mlflow.experiment_id(&experiment))
        .expect("experiment");
    let runs = |kind: &str| {
        runtime
            .block_on(mlflow.search_runs(
                std::slice::from_ref(&id),
                &format!("tags.`rag.kind` = '{kind}'"),
                100,
            ))
            .expect("search")
    };

    let queries = runs("query");
    assert_eq!(queries.len(), questions.len());
    for (question, answer) in questions.iter().zip(&answers) {
        let query_id = answer["query_id"].as_str().expect("query_id").to_string();
        let run = queries
            .iter()
            .find(|r| {
                r.tags
                    .iter()
                    .any(|(k, v)| k == "rag.query_id" && *v == query_id)
            })
            .unwrap_or_else(|| panic!("no run for query {query_id}"));
        assert_eq!(param(run, "generator"), "extractive");
        assert_eq!(param(run, "top_k"), "5");
        assert_eq!(param(run, "retrieval"), "hybrid");
        assert_eq!(param(run, "index_version"), answer["index_version"]);
        assert!(metric(run, "latency_ms").is_some_and(|v| v > 0.0));
        assert!(metric(run, "embed_ms").is_some());
        assert!(metric(run, "best_score").is_some());
        assert_eq!(run.info.status, "FINISHED");
        let text = |path: &str| {
            let bytes = runtime
                .block_on(mlflow.download_artifact(&run.info.artifact_uri, path))
                .expect("artifact");
            String::from_utf8(bytes).expect("utf-8")
        };
        assert_eq!(text("question.txt"), *question);
        assert_eq!(
            text("answer.txt"),
            answer["answer"].as_str().expect("answer")
        );
        let passages: Value = serde_json::from_str(&text("passages.json")).expect("passages");
        let grounded = answer["grounded"].as_bool().unwrap_or(false);
        assert_eq!(passages.as_array().is_some_and(|p| !p.is_empty()), grounded);
    }

    let feedback = runs("feedback");
    assert_eq!(feedback.len(), verdicts.len());
    for (answer, useful) in answers.iter().zip(verdicts) {
        let id = answer["query_id"].as_str().expect("query_id");
        let run = feedback
            .iter()
            .find(|r| r.tags.iter().any(|(k, v)| k == "rag.query_id" && v == id))
            .unwrap_or_else(|| panic!("no feedback run for query {id}"));
        assert_eq!(metric(run, "useful"), Some(f64::from(u8::from(useful))));
        assert_eq!(metric(run, "commented"), Some(1.0));
    }

    let ingests = runs("ingest");
    assert_eq!(ingests.len(), 1);
    assert_eq!(param(&ingests[0], "index_version"), version);
    assert!(!param(&ingests[0], "chunk_max_tokens").is_empty());
    assert!(metric(&ingests[0], "chunks").is_some_and(|c| c > 0.0));

    let registered = runtime
        .block_on(mlflow.model_versions("rag-index-default"))
        .expect("model versions");
    let entry = registered
        .iter()
        .find(|v| v.description.contains(&version))
        .unwrap_or_else(|| panic!("index {version} not registered"));
    assert!(
        entry.source.ends_with("index/manifest.json"),
        "{}",
        entry.source
    );
    let index_runs = runs("index");
    let index_run = index_runs
        .iter()
        .find(|r| r.info.run_id == entry.run_id)
        .expect("the registered version's run");
    let manifest = runtime
        .block_on(mlflow.download_artifact(&index_run.info.artifact_uri, "index/manifest.json"))
        .expect("manifest");
    let manifest: Value = serde_json::from_slice(&manifest).expect("manifest JSON");
    assert!(
        manifest.to_string().contains("second-copy.pdf"),
        "{manifest}"
    );

    let clusterings = runs("cluster");
    assert_eq!(clusterings.len(), 1);
    assert_eq!(metric(&clusterings[0], "k"), Some(2.0));
    assert_eq!(metric(&clusterings[0], "questions"), Some(3.0));
    assert!(metric(&clusterings[0], "silhouette").is_some());
    let summary = runtime
        .block_on(mlflow.download_artifact(&clusterings[0].info.artifact_uri, "clusters.json"))
        .expect("cluster summary");
    let summary: Value = serde_json::from_slice(&summary).expect("summary JSON");
    assert_eq!(summary.as_array().map(Vec::len), Some(2), "{summary}");

    // `rag ingest` is tracked too (it waits for its runs before exiting).
    let cli_experiment = format!("{experiment}-cli");
    let data = tempfile::tempdir().expect("tempdir");
    let out = common::rag(data.path(), Backend::Embedded)
        .args(["ingest", "--collection", "cli"])
        .arg(support::repo_root().join("data/pdf/procedures-support-it.pdf"))
        .env("MLFLOW_TRACKING_URI", &uri)
        .env("MLFLOW_EXPERIMENT_NAME", &cli_experiment)
        .output()
        .expect("rag ingest");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli_id = runtime
        .block_on(mlflow.experiment_id(&cli_experiment))
        .expect("experiment");
    let cli_runs = runtime
        .block_on(mlflow.search_runs(&[cli_id], "", 10))
        .expect("search");
    let kinds: Vec<&str> = cli_runs
        .iter()
        .flat_map(|r| &r.tags)
        .filter(|(k, _)| k == "rag.kind")
        .map(|(_, v)| v.as_str())
        .collect();
    assert!(
        kinds.contains(&"ingest") && kinds.contains(&"index"),
        "{kinds:?}"
    );

    // MLflow unreachable: answers as usual, runs dropped and counted.
    let dead = format!("http://127.0.0.1:{}", common::free_port());
    let env = [("MLFLOW_TRACKING_URI", dead.as_str())];
    let Some(server) = common::start_with(Backend::Embedded, &env) else {
        return;
    };
    let token = login(&server, "alice");
    for question in &questions[..2] {
        assert!(
            !ask(&server, &token, question)["answer"]
                .as_str()
                .unwrap_or("")
                .is_empty()
        );
    }
    let tracking = settled_tracking(&server);
    assert_eq!(tracking["dropped"], 2, "{tracking}");
    assert_eq!(tracking["logged"], 0, "{tracking}");
}
