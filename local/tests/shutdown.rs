//! SIGTERM (what Kubernetes and `podman stop` send) stops a server without losing work: a
//! request in flight gets its answer, and a bucket event already acknowledged is ingested
//! before the process exits.

mod common;

use common::Backend;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::support;
use reqwest::blocking::Client;
use serde_json::{Value, json};

const WEBHOOK_TOKEN: &str = "shutdown-webhook-secret";

/// A data directory with one account, or `None` (skipped) without the model files.
fn data_with_user(user: &str, admin: bool) -> Option<tempfile::TempDir> {
    if !support::available(&support::model_dir().join("use-m3"), "model files") {
        return None;
    }
    let data = tempfile::tempdir().expect("tempdir");
    common::add_user(data.path(), Backend::Embedded, user, admin);
    Some(data)
}

#[test]
fn sigterm_lets_a_request_in_flight_finish() {
    let Some(data) = data_with_user("alice", false) else {
        return;
    };
    let mut server = common::serve(data, Backend::Embedded, &[]);
    let address = server.base.trim_start_matches("http://").to_string();

    // A login whose body is only half sent when the signal arrives.
    let body = json!({"username": "alice", "password": "alice-password"}).to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut stream = TcpStream::connect(&address).expect("connect");
    write!(
        stream,
        "POST /auth/login HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{first}",
        body.len()
    )
    .expect("send head");
    stream.flush().expect("flush");
    std::thread::sleep(Duration::from_millis(300));
    server.terminate();
    std::thread::sleep(Duration::from_millis(500));

    assert!(
        server.exited_within(Duration::ZERO).is_none(),
        "the server exited with a request in flight:\n{}",
        server.log()
    );
    assert!(
        TcpStream::connect(&address).is_err(),
        "a draining server still accepts new connections"
    );

    stream.write_all(rest.as_bytes()).expect("send the rest");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&response).contains("\"token\"") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => response.extend_from_slice(&buf[..n]),
        }
    }
    let response = String::from_utf8_lossy(&response);
    assert!(
        response.starts_with("HTTP/1.1 200"),
        "the request in flight was not answered: {response:?}\n{}",
        server.log()
    );
    assert!(response.contains("\"token\""), "{response}");

    let status = server
        .exited_within(Duration::from_secs(10))
        .expect("the server did not exit after its last request");
    assert!(status.success(), "exit status {status}\n{}", server.log());
}

#[test]
fn sigterm_waits_for_an_acknowledged_bucket_event() {
    let Some(data) = data_with_user("admin", true) else {
        return;
    };
    let docs = data.path().join("docs");
    std::fs::create_dir_all(&docs).expect("docs dir");
    std::fs::copy(
        support::repo_root().join("data/pdf/procedures-support-it.pdf"),
        docs.join("procedures.pdf"),
    )
    .expect("copy the sample");
    let env = [("INGEST_WEBHOOK_TOKEN", WEBHOOK_TOKEN)];
    let mut server = common::serve(data, Backend::Embedded, &env);

    let http = Client::new();
    let event = json!({"Records": [{"eventName": "s3:ObjectCreated:Put",
        "s3": {"bucket": {"name": "local"}, "object": {"key": "docs/procedures.pdf"}}}]});
    let response = http
        .post(format!("{}/events/s3", server.base))
        .bearer_auth(WEBHOOK_TOKEN)
        .json(&event)
        .send()
        .expect("webhook");
    assert_eq!(response.status().as_u16(), 202, "{}", server.log());
    // The event is acknowledged and its ingestion runs in the background: stop now.
    server.terminate();
    let status = server
        .exited_within(Duration::from_secs(120))
        .expect("the server did not exit");
    assert!(status.success(), "exit status {status}\n{}", server.log());

    // Nothing was lost: a new server over the same data lists the document as indexed.
    let server = common::serve(server.into_data(), Backend::Embedded, &[]);
    let login: Value = http
        .post(format!("{}/auth/login", server.base))
        .json(&json!({"username": "admin", "password": "admin-password"}))
        .send()
        .and_then(|r| r.json())
        .expect("login");
    let documents: Value = http
        .get(format!("{}/documents", server.base))
        .bearer_auth(login["token"].as_str().expect("token"))
        .send()
        .and_then(|r| r.json())
        .expect("documents");
    let listed = documents.to_string();
    assert!(
        listed.contains("procedures.pdf") && listed.contains("indexed"),
        "the acknowledged event was lost at shutdown: {listed}\n{}",
        server.log()
    );
}
