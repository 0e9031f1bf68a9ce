//! The serverless path on a real S3-compatible server (moto on loopback, `RAG_TEST_S3_ENDPOINT`):
//! a PDF lands in the bucket → the bucket's event reaches the ingest service's webhook (S3 →
//! SNS → HTTP, as moto delivers it) → a new index version is published → a separate, running
//! query service swaps it in within its refresh interval, while a client keeps querying and
//! never sees a failure. Then the faults: a corrupt version, a removed PDF, S3 down at cold start.

mod common;

use std::io::Read as _;
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{Backend, Server, serve, support};
use reqwest::blocking::Client;
use serde_json::{Value, json};

const TOKEN: &str = "webhook-secret-for-tests";
const SAMPLE: &str = "procedures-support-it.pdf";
const MONARC: &str = "CASES_Monarc2016FR-web.pdf";

/// The S3 server, or `None` (skip) when it does not answer, except under CI.
fn endpoint() -> Option<String> {
    let endpoint =
        std::env::var("RAG_TEST_S3_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:5001".into());
    let addr = endpoint.trim_start_matches("http://").to_string();
    if TcpStream::connect(&addr).is_ok() {
        return Some(endpoint);
    }
    assert!(
        !std::env::var("CI").is_ok_and(|v| v == "true"),
        "S3 server required under CI at {endpoint}"
    );
    eprintln!("SKIPPED: no S3-compatible server at {endpoint}");
    None
}

/// moto routes a request to a service by the credential scope of its (unchecked) signature.
fn auth(service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"
    )
}

/// A bucket of its own on the S3 server, with the raw S3 and SNS calls the tests need.
struct Bucket {
    endpoint: String,
    name: String,
    http: Client,
}

impl Bucket {
    fn create(endpoint: &str, label: &str) -> Bucket {
        let name = format!(
            "rag-{label}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis())
        );
        let bucket = Bucket {
            endpoint: endpoint.to_string(),
            name,
            http: Client::new(),
        };
        let status = bucket
            .http
            .put(format!("{}/{}", bucket.endpoint, bucket.name))
            .header("Authorization", auth("s3"))
            .send()
            .expect("create bucket")
            .status();
        assert!(status.is_success(), "create bucket: {status}");
        bucket
    }

    fn url(&self, key: &str) -> String {
        format!(
            "{}/{}/{}",
            self.endpoint,
            self.name,
            key.replace(' ', "%20")
        )
    }

    fn put(&self, key: &str, bytes: Vec<u8>) {
        let status = self
            .http
            .put(self.url(key))
            .header("Authorization", auth("s3"))
            .body(bytes)
            .send()
            .expect("put object")
            .status();
        assert!(status.is_success(), "put {key}: {status}");
    }

    fn get(&self, key: &str) -> String {
        self.http
            .get(self.url(key))
            .header("Authorization", auth("s3"))
            .send()
            .and_then(|r| r.text())
            .expect("get object")
    }

    fn delete(&self, key: &str) {
        let status = self
            .http
            .delete(self.url(key))
            .header("Authorization", auth("s3"))
            .send()
            .expect("delete object")
            .status();
        assert!(status.is_success(), "delete {key}: {status}");
    }

    /// Bucket → SNS topic → HTTP subscription to `webhook`, for created and removed objects.
    fn notify(&self, webhook: &str) {
        let sns = |form: &[(&str, &str)]| {
            let response = self
                .http
                .post(format!("{}/", self.endpoint))
                .header("Authorization", auth("sns"))
                .form(form)
                .send()
                .expect("sns call");
            assert!(response.status().is_success(), "sns {form:?}");
            response.text().expect("sns body")
        };
        let created = sns(&[("Action", "CreateTopic"), ("Name", &self.name)]);
        let arn = created
            .split("<TopicArn>")
            .nth(1)
            .and_then(|rest| rest.split("</TopicArn>").next())
            .expect("topic ARN")
            .to_string();
        sns(&[
            ("Action", "Subscribe"),
            ("TopicArn", &arn),
            ("Protocol", "http"),
            ("Endpoint", webhook),
        ]);
        let config = format!(
            r#"<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TopicConfiguration><Id>rag</Id><Topic>{arn}</Topic><Event>s3:ObjectCreated:*</Event><Event>s3:ObjectRemoved:*</Event></TopicConfiguration></NotificationConfiguration>"#
        );
        let status = self
            .http
            .put(format!("{}/{}?notification", self.endpoint, self.name))
            .header("Authorization", auth("s3"))
            .header("Content-Type", "application/xml")
            .body(config)
            .send()
            .expect("notification configuration")
            .status();
        assert!(status.is_success(), "notification configuration: {status}");
    }

    /// The environment of a service using this bucket through `endpoint`.
    fn env<'a>(&'a self, endpoint: &'a str) -> Vec<(&'a str, &'a str)> {
        vec![
            ("S3_BUCKET", self.name.as_str()),
            ("AWS_ENDPOINT_URL", endpoint),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test-secret"),
            ("AWS_REGION", "us-east-1"),
            ("RAG_ADMIN_USERNAME", "admin"),
            ("RAG_ADMIN_PASSWORD", "admin-password"),
        ]
    }
}

fn login(http: &Client, server: &Server) -> String {
    let body: Value = http
        .post(format!("{}/auth/login", server.base))
        .json(&json!({"username": "admin", "password": "admin-password"}))
        .send()
        .and_then(|r| r.json())
        .expect("login");
    body["token"].as_str().expect("token").to_string()
}

fn ask(http: &Client, server: &Server, token: &str, question: &str) -> (u16, Value) {
    let response = http
        .post(format!("{}/query", server.base))
        .bearer_auth(token)
        .json(&json!({ "question": question }))
        .send()
        .expect("query");
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(Value::Null))
}

fn health(http: &Client, server: &Server) -> Value {
    http.get(format!("{}/health", server.base))
        .send()
        .and_then(|r| r.json())
        .expect("health")
}

/// Polls `probe` until it returns something, or fails with `what` and the servers' logs.
fn wait_for<T>(
    what: &str,
    timeout: Duration,
    servers: &[&Server],
    mut probe: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(found) = probe() {
            return found;
        }
        if Instant::now() > deadline {
            let logs: Vec<String> = servers.iter().map(|s| s.log()).collect();
            panic!("timed out waiting for {what}\n{}", logs.join("\n----\n"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn cited(answer: &Value, document: &str) -> bool {
    answer["sources"]
        .as_array()
        .is_some_and(|s| s.iter().any(|x| x["document"] == document))
}

fn ready() -> Option<String> {
    if !support::available(&support::model_dir().join("use-m3"), "model files") {
        return None;
    }
    if !support::available(&support::corpus_dir().join("fr").join(MONARC), "corpus") {
        return None;
    }
    endpoint()
}

#[test]
fn bucket_events_publish_versions_that_the_running_query_service_swaps_in() {
    let Some(endpoint) = ready() else { return };
    let bucket = Bucket::create(&endpoint, "pipeline");
    let http = Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");

    let mut ingest_env = bucket.env(&endpoint);
    ingest_env.push(("INGEST_WEBHOOK_TOKEN", TOKEN));
    let ingest = serve(
        tempfile::tempdir().expect("tempdir"),
        Backend::Embedded,
        &ingest_env,
    );
    // As an SNS subscription URL carries a secret: user:secret@, sent as Basic credentials.
    let with_secret = ingest
        .base
        .replace("http://", &format!("http://sns:{TOKEN}@"));
    bucket.notify(&format!("{with_secret}/events/s3"));
    let mut query_env = bucket.env(&endpoint);
    query_env.push(("INDEX_REFRESH_SECS", "1"));
    let query = serve(
        tempfile::tempdir().expect("tempdir"),
        Backend::Embedded,
        &query_env,
    );
    let token = login(&http, &query);
    let servers = [&ingest, &query];

    // Nothing published yet: a clear 503.
    let (status, body) = ask(&http, &query, &token, "How do I reset my password?");
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "engine_unavailable");

    // Upload → S3 event → SNS → webhook → ingest → publish → the query service swaps it in.
    let sample = std::fs::read(support::repo_root().join("data/pdf").join(SAMPLE)).expect("pdf");
    let uploaded = Instant::now();
    bucket.put(&format!("docs/{SAMPLE}"), sample);
    let v1 = wait_for(
        "the first version",
        Duration::from_secs(180),
        &servers,
        || {
            health(&http, &query)["index_version"]
                .as_str()
                .map(str::to_string)
        },
    );
    eprintln!(
        "upload → answerable in {:.1} s",
        uploaded.elapsed().as_secs_f64()
    );
    let (status, body) = ask(&http, &query, &token, "How do I reset my password?");
    assert_eq!(status, 200, "{body}");
    assert!(cited(&body, SAMPLE), "{body}");
    assert_eq!(body["index_version"], v1.as_str());

    // From here on a client keeps asking; not one request may fail.
    let stop = Arc::new(AtomicBool::new(false));
    let client = {
        let (stop, http, base, token) = (
            stop.clone(),
            http.clone(),
            query.base.clone(),
            token.clone(),
        );
        std::thread::spawn(move || {
            let mut outcomes: Vec<(u16, String)> = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let response = http
                    .post(format!("{base}/query"))
                    .bearer_auth(&token)
                    .json(&json!({"question": "Comment réinitialiser un mot de passe ?"}))
                    .send();
                outcomes.push(match response {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        let body: Value = r.json().unwrap_or(Value::Null);
                        (status, body["index_version"].as_str().unwrap_or("").into())
                    }
                    Err(e) => (0, e.to_string()),
                });
            }
            outcomes
        })
    };

    // A second PDF: version 2, answered from the new document.
    let monarc = std::fs::read(support::corpus_dir().join("fr").join(MONARC)).expect("pdf");
    bucket.put(&format!("docs/{MONARC}"), monarc);
    let v2 = wait_for(
        "the second version",
        Duration::from_secs(300),
        &servers,
        || {
            health(&http, &query)["index_version"]
                .as_str()
                .filter(|v| *v != v1)
                .map(str::to_string)
        },
    );
    let (status, body) = ask(
        &http,
        &query,
        &token,
        "Does MONARC come with ready-made risk models for GDPR or PCI-DSS compliance?",
    );
    assert_eq!(status, 200, "{body}");
    assert!(cited(&body, MONARC), "{body}");

    // A corrupt version named by CURRENT: refused, reported, v2 kept and still answering.
    bucket.put(
        "indexes/default/badbadbad/index.rag",
        b"RAGINDEX\0garbage".to_vec(),
    );
    bucket.put("indexes/default/CURRENT", b"badbadbad".to_vec());
    let error = wait_for(
        "the corrupt version reported",
        Duration::from_secs(30),
        &servers,
        || {
            health(&http, &query)["index_error"]
                .as_str()
                .map(str::to_string)
        },
    );
    assert!(error.contains("badbadbad"), "{error}");
    assert_eq!(health(&http, &query)["index_version"], v2.as_str());
    bucket.put("indexes/default/CURRENT", v2.clone().into_bytes());
    wait_for(
        "the failure cleared",
        Duration::from_secs(30),
        &servers,
        || health(&http, &query)["index_error"].is_null().then_some(()),
    );

    // A removal, as MinIO posts it (bare records, bearer token): the PDF leaves the index.
    bucket.delete(&format!("docs/{MONARC}"));
    let removal = json!({"Records": [{"eventName": "s3:ObjectRemoved:Delete",
        "s3": {"bucket": {"name": bucket.name}, "object": {"key": format!("docs/{}", MONARC)}}}]});
    let response = http
        .post(format!("{}/events/s3", ingest.base))
        .bearer_auth(TOKEN)
        .json(&removal)
        .send()
        .expect("webhook");
    assert_eq!(response.status().as_u16(), 202);
    let v3 = wait_for(
        "the version without MONARC",
        Duration::from_secs(60),
        &servers,
        || {
            health(&http, &query)["index_version"]
                .as_str()
                .filter(|v| *v != v2)
                .map(str::to_string)
        },
    );
    assert_eq!(
        v3, v1,
        "versions are content-addressed: the sample alone is v1 again"
    );
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    let outcomes = client.join().expect("client thread");

    let failed: Vec<&(u16, String)> = outcomes.iter().filter(|(s, _)| *s != 200).collect();
    assert!(failed.is_empty(), "failed during swaps: {failed:?}");
    let versions: std::collections::BTreeSet<&str> =
        outcomes.iter().map(|(_, v)| v.as_str()).collect();
    eprintln!(
        "{} queries during the swaps, none failed; versions answered from: {versions:?}",
        outcomes.len()
    );
    assert!(versions.contains(v2.as_str()), "{versions:?}");

    // The ingest service's account of each document.
    let admin = login(&http, &ingest);
    let documents: Value = http
        .get(format!("{}/documents", ingest.base))
        .bearer_auth(&admin)
        .send()
        .and_then(|r| r.json())
        .expect("documents");
    let states: Vec<(&str, &str)> = documents["documents"]
        .as_array()
        .expect("list")
        .iter()
        .map(|d| {
            (
                d["name"].as_str().unwrap_or(""),
                d["status"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(states, [(MONARC, "removed"), (SAMPLE, "indexed")]);
    assert_eq!(bucket.get("indexes/default/CURRENT"), v3);

    // An admin upload: stored in the bucket, ingested, answered by the query service. (Its
    // bucket event arrives too, and changes nothing.)
    let upload = |name: &str, token: Option<&str>, body: Vec<u8>| {
        let mut request = http
            .post(format!("{}/documents?name={name}", ingest.base))
            .header("Content-Type", "application/pdf")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().expect("upload");
        let status = response.status().as_u16();
        (status, response.json::<Value>().unwrap_or(Value::Null))
    };
    let (status, body) = upload("not-a.pdf", Some(&admin), b"plain text".to_vec());
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (415, Some("not_pdf"))
    );
    let pdf = std::fs::read(support::repo_root().join("data/pdf").join(SAMPLE)).expect("pdf");
    // Refused on its headers: the server answers before reading the body and closes the
    // connection, so a body larger than the socket buffers would meet a reset instead of the
    // answer (security.rs checks the 60 MiB case on a raw connection).
    let (status, _) = upload("copy.pdf", None, pdf[..4096].to_vec());
    assert_eq!(status, 401);
    let (status, body) = upload("copy.pdf", Some(&admin), pdf);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["documents"][0]["name"], "copy.pdf", "{body}");
    assert_eq!(body["documents"][0]["status"], "indexed", "{body}");
    let v4 = body["index_version"].as_str().expect("version").to_string();
    assert_ne!(v4, v3);
    wait_for(
        "the uploaded version",
        Duration::from_secs(30),
        &servers,
        || (health(&http, &query)["index_version"] == v4.as_str()).then_some(()),
    );
    let (status, body) = ask(&http, &query, &token, "How do I reset my password?");
    assert_eq!(status, 200, "{body}");
    assert!(cited(&body, "copy.pdf") || cited(&body, SAMPLE), "{body}");
    assert!(bucket.get("docs/copy.pdf").starts_with("%PDF-"));

    // The webhook wants its token, and an event.
    let unauthorised = http
        .post(format!("{}/events/s3", ingest.base))
        .json(&removal)
        .send()
        .expect("webhook");
    assert_eq!(unauthorised.status().as_u16(), 401);
    let in_query_string = http
        .post(format!("{}/events/s3?token={TOKEN}", ingest.base))
        .json(&removal)
        .send()
        .expect("webhook");
    assert_eq!(
        in_query_string.status().as_u16(),
        401,
        "a secret in the URL ends up in access logs: not accepted"
    );
    let garbage = http
        .post(format!("{}/events/s3", ingest.base))
        .bearer_auth(TOKEN)
        .body("{\"hello\": 1}")
        .send()
        .expect("webhook");
    assert_eq!(garbage.status().as_u16(), 400);
}

#[test]
fn s3_down_at_cold_start_answers_503_then_recovers() {
    let Some(endpoint) = ready() else { return };
    let bucket = Bucket::create(&endpoint, "coldstart");
    // Publish the sample with the CLI, straight to the bucket.
    let data = tempfile::tempdir().expect("tempdir");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rag"))
        .arg("--data-dir")
        .arg(data.path())
        .env("RAG_MODEL_DIR", support::model_dir())
        .envs(bucket.env(&endpoint))
        .arg("ingest")
        .arg(support::repo_root().join("data/pdf").join(SAMPLE))
        .output()
        .expect("rag ingest");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut published = String::new();
    (&bucket.get("indexes/default/CURRENT").into_bytes()[..])
        .read_to_string(&mut published)
        .expect("utf-8");

    // The query service starts while its S3 endpoint refuses connections.
    let port = common::free_port();
    let unreachable = format!("http://127.0.0.1:{port}");
    let mut env = bucket.env(&unreachable);
    env.push(("INDEX_REFRESH_SECS", "1"));
    let query = serve(
        tempfile::tempdir().expect("tempdir"),
        Backend::Embedded,
        &env,
    );
    let http = Client::new();
    let token = login(&http, &query);
    let (status, body) = ask(&http, &query, &token, "How do I reset my password?");
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "engine_unavailable");
    let report = health(&http, &query);
    assert!(report["index_version"].is_null());
    assert!(
        report["index_error"]
            .as_str()
            .is_some_and(|e| e.contains("unavailable")),
        "{report}"
    );

    // S3 comes back: answered within the refresh interval, from the published version.
    proxy(
        TcpListener::bind(("127.0.0.1", port)).expect("proxy port"),
        endpoint.trim_start_matches("http://").to_string(),
        None,
    );
    let back = Instant::now();
    let body = wait_for("recovery", Duration::from_secs(30), &[&query], || {
        let (status, body) = ask(&http, &query, &token, "How do I reset my password?");
        (status == 200).then_some(body)
    });
    eprintln!(
        "answered {:.1} s after S3 came back",
        back.elapsed().as_secs_f64()
    );
    assert_eq!(body["index_version"], published.trim());
    assert!(health(&http, &query)["index_error"].is_null());

    // The cold-start benchmark runs against the same bucket and prints its table.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rag"))
        .env("RAG_MODEL_DIR", support::model_dir())
        .envs(bucket.env(&endpoint))
        .args(["cold-start", "--runs", "1"])
        .output()
        .expect("rag cold-start");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        table.contains("process start → first answered query"),
        "{table}"
    );
    assert!(table.contains(published.trim()), "{table}");
}

/// Forwards connections from `listener` to `target` for as long as the test runs. With
/// `stall`: once a request contains `PUT ` and its pattern, nothing more is forwarded in either
/// direction (the upload hangs mid-way) and its flag is set.
fn proxy(listener: TcpListener, target: String, stall: Option<(&'static str, Arc<AtomicBool>)>) {
    use std::io::Write as _;
    let stalled = stall.as_ref().map_or_else(
        || Arc::new(AtomicBool::new(false)),
        |(_, flag)| flag.clone(),
    );
    let pattern = stall.map(|(pattern, _)| pattern);
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(&target) else {
                continue;
            };
            let (mut c_read, mut s_write) = (
                client.try_clone().expect("clone"),
                server.try_clone().expect("clone"),
            );
            let (mut s_read, mut c_write) = (server, client);
            let stalled_up = stalled.clone();
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let n = match c_read.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    let chunk = String::from_utf8_lossy(&buf[..n]);
                    if pattern.is_some_and(|p| chunk.contains("PUT ") && chunk.contains(p)) {
                        stalled_up.store(true, Ordering::SeqCst);
                        // Hold the connection open, forwarding nothing.
                        std::thread::sleep(Duration::from_secs(3600));
                        return;
                    }
                    if s_write.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            });
            let stalled_down = stalled.clone();
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let n = match s_read.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    if stalled_down.load(Ordering::SeqCst) || c_write.write_all(&buf[..n]).is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
}

#[test]
fn an_ingest_killed_mid_upload_leaves_current_on_the_old_version() {
    let Some(endpoint) = ready() else { return };
    let bucket = Bucket::create(&endpoint, "killed");
    let rag = |endpoint: &str, args: &[&std::ffi::OsStr]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_rag"));
        command
            .env("RAG_MODEL_DIR", support::model_dir())
            .envs(bucket.env(endpoint))
            .args(args);
        command
    };
    let sample = support::repo_root().join("data/pdf").join(SAMPLE);
    let out = rag(&endpoint, &["ingest".as_ref(), sample.as_os_str()])
        .output()
        .expect("rag ingest");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v1 = bucket.get("indexes/default/CURRENT");

    // A second ingest whose index upload hangs half-way (the proxy stops forwarding), then
    // the process is killed (SIGKILL).
    let port = common::free_port();
    let stalled = Arc::new(AtomicBool::new(false));
    proxy(
        TcpListener::bind(("127.0.0.1", port)).expect("proxy port"),
        endpoint.trim_start_matches("http://").to_string(),
        Some(("/index.rag", stalled.clone())),
    );
    let monarc = support::corpus_dir().join("fr").join(MONARC);
    let mut child = rag(
        &format!("http://127.0.0.1:{port}"),
        &["ingest".as_ref(), monarc.as_os_str()],
    )
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .expect("spawn rag ingest");
    let deadline = Instant::now() + Duration::from_secs(300);
    while !stalled.load(Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "the index upload never started");
        assert!(
            child.try_wait().expect("wait").is_none(),
            "rag ingest ended before uploading"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().expect("kill");
    child.wait().expect("reap");

    // CURRENT still names v1, which loads and answers; no half version is listed.
    assert_eq!(bucket.get("indexes/default/CURRENT"), v1);
    let listed = rag(&endpoint, &["index".as_ref(), "list".as_ref()])
        .output()
        .expect("rag index list");
    let listed = String::from_utf8_lossy(&listed.stdout).to_string();
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(listed.starts_with(&format!("* {v1}")), "{listed}");
    let out = rag(
        &endpoint,
        &[
            "ask".as_ref(),
            "--json".as_ref(),
            "How do I reset my password?".as_ref(),
        ],
    )
    .output()
    .expect("rag ask");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(cited(&answer, SAMPLE), "{answer}");
}
