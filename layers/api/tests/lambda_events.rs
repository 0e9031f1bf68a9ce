//! The Lambda path without AWS: real API Gateway HTTP API (v2) and REST API (v1) events are
//! turned into requests by lambda_http, exactly as `lambda_http::run` does, and sent through
//! each function's router; S3 trigger events go to the ingest function's handler.

#[path = "../../../tests/support/mod.rs"]
mod support;

use std::sync::Arc;

use axum::Router;
use http_body_util::BodyExt;
use rag_api::state::Ingest;
use rag_api::{App, finish, on_s3_event, routes};
use rag_core::accounts::{self, Tokens};
use std::time::Duration;

use rag_core::chunk::ChunkParams;
use rag_core::cluster::runs::Assigner;
use rag_core::collection;
use rag_core::documents::Documents;
use rag_core::embed::{Precision, load_models};
use rag_core::ingest::{self, Document};
use rag_core::live::LiveIndex;
use rag_core::objects::{DirStore, ObjectStore};
use rag_core::store::{DocumentStatus, Role, SqliteStore, Store};
use serde_json::{Value, json};

const SECRET: &[u8] = b"lambda-test-secret-of-32-bytes-or-more";

fn v2_event(
    method: &str,
    path: &str,
    query: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> String {
    let mut headers = json!({
        "content-type": "application/json",
        "host": "abc123.execute-api.eu-west-3.amazonaws.com",
        "x-forwarded-proto": "https"
    });
    if let Some(t) = token {
        headers["authorization"] = json!(format!("Bearer {t}"));
    }
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.eu-west-3.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "10.0.0.1", "userAgent": "test"},
            "requestId": "req-1",
            "routeKey": "$default",
            "stage": "$default",
            "time": "25/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1_795_000_000_000i64
        },
        "body": body.map(|b| b.to_string()),
        "isBase64Encoded": false
    })
    .to_string()
}

fn v1_event(method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> String {
    let mut headers = json!({"Content-Type": "application/json", "Host": "abc123.execute-api.eu-west-3.amazonaws.com"});
    if let Some(t) = token {
        headers["Authorization"] = json!(format!("Bearer {t}"));
    }
    let multi: serde_json::Map<String, Value> = headers
        .as_object()
        .map(|h| h.iter().map(|(k, v)| (k.clone(), json!([v]))).collect())
        .unwrap_or_default();
    json!({
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": multi,
        "queryStringParameters": null,
        "multiValueQueryStringParameters": null,
        "pathParameters": {"proxy": path.trim_start_matches('/')},
        "stageVariables": null,
        "requestContext": {
            "accountId": "123456789012",
            "resourceId": "r1",
            "stage": "prod",
            "requestId": "req-2",
            "identity": {"sourceIp": "10.0.0.2", "userAgent": "test"},
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "apiId": "abc123",
            "path": format!("/prod{path}"),
            "protocol": "HTTP/1.1"
        },
        "body": body.map(|b| b.to_string()),
        "isBase64Encoded": false
    })
    .to_string()
}

async fn invoke(router: &Router, event: &str) -> (u16, Value) {
    let request = lambda_http::request::from_str(event).expect("a valid API Gateway event");
    let response = rag_api::handle_event(router.clone(), request)
        .await
        .expect("infallible");
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

struct Fixture {
    _dir: tempfile::TempDir,
    app: App,
    token: String,
}

async fn fixture(with_engine: bool) -> Option<Fixture> {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("rag.db")).expect("open"));
    let tokens = Arc::new(Tokens::new(SECRET, 600).expect("tokens"));
    accounts::create_user(
        store.as_ref(),
        "test",
        "alice",
        "alice-password",
        Role::User,
    )
    .await
    .expect("user");
    let token = accounts::login(store.as_ref(), &tokens, "alice", "alice-password", None)
        .await
        .expect("login")
        .token;
    let engine = if with_engine {
        let models_dir = support::model_dir();
        if !support::available(&models_dir.join("use-m3"), "model files") {
            return None;
        }
        let names = vec!["multilingual-e5-small".to_string(), "use-m3".to_string()];
        let models = load_models(&models_dir, &names, Precision::Int8, 2).expect("models");
        let pdf = support::repo_root().join("data/pdf/procedures-support-it.pdf");
        let doc = Document {
            name: "procedures-support-it.pdf".into(),
            bytes: std::fs::read(pdf).expect("sample"),
            password: None,
        };
        let (index, _) = ingest::ingest(
            None,
            "default",
            &models,
            vec![doc],
            ChunkParams::default(),
            &mut |_| {},
        )
        .expect("ingest");
        let objects = Arc::new(DirStore::new(dir.path()));
        collection::publish(objects.as_ref(), &index, None)
            .await
            .expect("publish");
        let live = Arc::new(LiveIndex::new(
            Arc::new(models),
            objects,
            "default",
            Duration::from_secs(30),
        ));
        assert!(live.refresh().await.is_some());
        Some(live)
    } else {
        None
    };
    Some(Fixture {
        _dir: dir,
        app: App {
            store,
            tokens,
            engine,
            ingest: None,
            generator: None,
            tracker: None,
            assigner: Arc::new(Assigner::new(Duration::from_secs(60))),
            edge: Default::default(),
        },
        token,
    })
}

#[tokio::test]
async fn login_function_answers_api_gateway_events() {
    let Some(f) = fixture(false).await else {
        return;
    };
    let router = finish(routes::auth::router(), f.app.clone());
    let good = json!({"username": "alice", "password": "alice-password"});
    let (status, body) = invoke(
        &router,
        &v2_event("POST", "/auth/login", "", None, Some(good.clone())),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "Bearer");
    let (status, _) = invoke(&router, &v1_event("POST", "/auth/login", None, Some(good))).await;
    assert_eq!(status, 200, "REST API v1 event");
    let bad = json!({"username": "alice", "password": "nope-nope"});
    let (status, body) = invoke(
        &router,
        &v2_event("POST", "/auth/login", "", None, Some(bad)),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("invalid_credentials"))
    );
}

#[tokio::test]
async fn history_and_health_functions_answer_api_gateway_events() {
    let Some(f) = fixture(false).await else {
        return;
    };
    let history = finish(routes::history::router(), f.app.clone());
    let (status, body) = invoke(
        &history,
        &v2_event("GET", "/history", "limit=5", Some(&f.token), None),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["items"], json!([]));
    let (status, _) = invoke(&history, &v2_event("GET", "/history", "", None, None)).await;
    assert_eq!(status, 401);
    let (status, _) = invoke(&history, &v1_event("GET", "/history", Some(&f.token), None)).await;
    assert_eq!(status, 200, "REST API v1 event");

    let health = finish(routes::health::router(), f.app.clone());
    let (status, body) = invoke(&health, &v2_event("GET", "/health", "", None, None)).await;
    assert_eq!(status, 200);
    assert_eq!(body["store"], "embedded");
    let (status, _) = invoke(&health, &v2_event("GET", "/nowhere", "", None, None)).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn query_function_answers_and_records_from_api_gateway_events() {
    let Some(f) = fixture(true).await else { return };
    let router = finish(routes::query::router(), f.app.clone());
    let q = json!({"question": "Quel est le numéro de la ligne d'urgence sécurité ?"});
    let (status, body) = invoke(
        &router,
        &v2_event("POST", "/query", "", Some(&f.token), Some(q.clone())),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sources"][0]["document"], "procedures-support-it.pdf");
    assert!(body["answer"].as_str().is_some_and(|a| a.contains("[")));
    let (status, _) = invoke(
        &router,
        &v1_event("POST", "/query", Some(&f.token), Some(q)),
    )
    .await;
    assert_eq!(status, 200, "REST API v1 event");
    let (status, body) = invoke(
        &router,
        &v2_event(
            "POST",
            "/query",
            "",
            Some(&f.token),
            Some(json!({"question": ""})),
        ),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("empty_question"))
    );
    let alice = f
        .app
        .store
        .user("alice")
        .await
        .expect("user")
        .expect("alice");
    let recorded = f
        .app
        .store
        .history(alice.id, 10, None)
        .await
        .expect("history");
    assert_eq!(recorded.len(), 2);
}

/// An S3 trigger event as Lambda delivers it (the shape of aws_lambda_events' fixture).
fn s3_event(bucket: &str, key: &str, name: &str) -> aws_lambda_events::s3::S3Event {
    serde_json::from_value(json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "eu-west-3",
        "eventTime": "2026-11-25T10:00:00.000Z", "eventName": name,
        "userIdentity": {"principalId": "AWS:EXAMPLE"},
        "requestParameters": {"sourceIPAddress": "10.0.0.1"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "ingest",
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": "EXAMPLE"},
                          "arn": format!("arn:aws:s3:::{bucket}")},
               "object": {"key": key, "size": 1024, "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                          "sequencer": "0A1B2C3D4E5F678901"}}
    }]}))
    .expect("S3 event")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_function_applies_s3_trigger_events() {
    let models_dir = support::model_dir();
    if !support::available(&models_dir.join("use-m3"), "model files") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("rag.db")).expect("open"));
    let objects = Arc::new(DirStore::new(dir.path()));
    let names = vec!["multilingual-e5-small".to_string(), "use-m3".to_string()];
    let models = Arc::new(load_models(&models_dir, &names, Precision::Int8, 2).expect("models"));
    let app = App {
        store: store.clone(),
        tokens: Arc::new(Tokens::new(SECRET, 600).expect("tokens")),
        engine: None,
        ingest: Some(Arc::new(Ingest {
            documents: Arc::new(Documents::new(
                objects.clone(),
                models,
                "default",
                ChunkParams::default(),
            )),
            bucket: Some("rag-docs".into()),
            webhook_token: None,
        })),
        generator: None,
        tracker: None,
        assigner: Arc::new(Assigner::new(Duration::from_secs(60))),
        edge: Default::default(),
    };
    let pdf = std::fs::read(support::repo_root().join("data/pdf/procedures-support-it.pdf"))
        .expect("sample");
    objects
        .put("docs/Procédures support.pdf", &pdf)
        .await
        .expect("put");
    // Keys arrive URL-encoded, spaces as '+'.
    let key = "docs/Proc%C3%A9dures+support.pdf";

    let created = s3_event("rag-docs", key, "ObjectCreated:Put");
    let first = on_s3_event(&app, &created).await.expect("first delivery");
    assert_eq!(first["published"], true, "{first}");
    let version = collection::current_version(objects.as_ref(), "default")
        .await
        .expect("current")
        .expect("published");
    assert_eq!(first["index_version"], version.as_str());

    // Lambda retries and duplicates: nothing changes.
    let again = on_s3_event(&app, &created).await.expect("redelivery");
    assert_eq!(again["published"], false, "{again}");
    // Another bucket's event is ignored.
    let other = s3_event("someone-else", key, "ObjectRemoved:Delete");
    assert_eq!(
        on_s3_event(&app, &other).await.expect("other")["published"],
        false
    );

    let documents = store.documents("default").await.expect("documents");
    assert_eq!(documents.len(), 1);
    assert_eq!(documents[0].name, "Procédures support.pdf");
    assert!(documents[0].chunks > 0);

    objects
        .delete("docs/Procédures support.pdf")
        .await
        .expect("delete");
    let removed = s3_event("rag-docs", key, "ObjectRemoved:Delete");
    let gone = on_s3_event(&app, &removed).await.expect("removal");
    assert_eq!(gone["published"], true, "{gone}");
    let states = store.documents("default").await.expect("documents");
    assert_eq!(states[0].status, DocumentStatus::Removed);
}

#[tokio::test]
async fn the_cluster_schedule_is_told_from_http_events_and_runs() {
    let Some(f) = fixture(false).await else {
        return;
    };
    let schedule = json!({
        "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event", "source": "aws.events", "account": "123456789012",
        "time": "2026-12-01T03:00:00Z", "region": "eu-west-3",
        "resources": ["arn:aws:events:eu-west-3:123456789012:rule/cluster-nightly"], "detail": {}
    });
    let scheduled = lambda_http::request::from_str(&schedule.to_string()).expect("passed through");
    assert!(rag_api::is_scheduled(&scheduled));
    let http = v2_event("GET", "/clusters", "", Some(&f.token), None);
    let http = lambda_http::request::from_str(&http).expect("an API Gateway event");
    assert!(!rag_api::is_scheduled(&http));

    // No question recorded yet: the run says so instead of failing.
    let response = rag_api::on_schedule(&f.app).await;
    assert_eq!(response.status().as_u16(), 422);
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let body: Value = serde_json::from_slice(&bytes).expect("JSON");
    assert_eq!(body["error"]["code"], "too_few_questions");
}
