//! What an outsider can make `rag serve` do (issue: hardening), over real HTTP on loopback:
//! forged bucket events, bodies sent before authentication, slow clients, password guessing,
//! hostile document names, the audit trail and the last administrator.

mod common;

#[path = "../../layers/core/tests/hostile/mod.rs"]
mod hostile;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{Backend, Server, start_with, token};
use reqwest::blocking::Client;
use serde_json::{Value, json};

/// One scenario at a time: two of them measure latency and memory, which other servers of this
/// binary running beside them would skew.
static ALONE: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ALONE.lock().unwrap_or_else(|e| e.into_inner())
}

const WEBHOOK_SECRET: &str = "a-webhook-secret-of-some-length";
const QUESTION: &str = "Comment réinitialiser mon mot de passe ?";

fn ask(client: &Client, server: &Server, token: &str) -> Value {
    let response = client
        .post(format!("{}/query", server.base))
        .bearer_auth(token)
        .json(&json!({"question": QUESTION}))
        .send()
        .expect("query");
    assert_eq!(response.status().as_u16(), 200);
    response.json().expect("json")
}

fn removal(key: &str) -> Value {
    json!({"Records": [{"eventName": "s3:ObjectRemoved:Delete",
        "s3": {"bucket": {"name": "local"}, "object": {"key": key}}}]})
}

/// Sends raw bytes and returns what the server answered before closing or `wait` elapsed.
fn raw(server: &Server, request: &[u8], wait: Duration) -> (String, Duration) {
    let address = server.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(wait)).expect("timeout");
    stream.write_all(request).expect("write");
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
        if answer.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

#[test]
fn forged_bucket_events_change_nothing() {
    let _alone = alone();
    // Without a secret, the webhook is not served at all.
    let Some(open) = start_with(Backend::Embedded, &[]) else {
        return;
    };
    let client = Client::new();
    let forged = client
        .post(format!("{}/events/s3", open.base))
        .json(&removal("docs/procedures-support-it.pdf"))
        .send()
        .expect("webhook");
    assert_eq!(forged.status().as_u16(), 404);
    drop(open);

    let server = start_with(
        Backend::Embedded,
        &[("INGEST_WEBHOOK_TOKEN", WEBHOOK_SECRET)],
    )
    .expect("server");
    let alice = token(&client, &server.base, "alice");
    let before = ask(&client, &server, &alice);
    assert_eq!(before["grounded"], true, "{before}");
    let version = before["index_version"].clone();

    for (header, expected) in [
        (None, 401),
        (Some("Bearer wrong-secret".to_string()), 401),
        (Some(format!("Bearer {WEBHOOK_SECRET}")), 202),
    ] {
        let mut request = client
            .post(format!("{}/events/s3", server.base))
            .json(&removal("docs/procedures-support-it.pdf"));
        if let Some(h) = header {
            request = request.header("authorization", h);
        }
        assert_eq!(request.send().expect("webhook").status().as_u16(), expected);
    }
    // Even with the secret, a removal of a PDF the bucket still holds (`rag ingest` keeps it
    // under docs/) and removals of keys the collection never had change nothing.
    let never: Vec<Value> = (0..100)
        .map(|i| removal(&format!("docs/never-{i}.pdf"))["Records"][0].clone())
        .collect();
    let accepted = client
        .post(format!("{}/events/s3", server.base))
        .bearer_auth(WEBHOOK_SECRET)
        .json(&json!({ "Records": never }))
        .send()
        .expect("webhook");
    assert_eq!(accepted.status().as_u16(), 202);
    let too_many: Vec<Value> = (0..101).map(|_| never[0].clone()).collect();
    let refused = client
        .post(format!("{}/events/s3", server.base))
        .bearer_auth(WEBHOOK_SECRET)
        .json(&json!({ "Records": too_many }))
        .send()
        .expect("webhook");
    assert_eq!(refused.status().as_u16(), 422);

    std::thread::sleep(Duration::from_secs(3));
    let after = ask(&client, &server, &alice);
    assert_eq!(after["index_version"], version, "{}", server.log());
    assert_eq!(after["answer"], before["answer"]);
    let admin = token(&client, &server.base, "admin");
    let documents: Value = client
        .get(format!("{}/documents", server.base))
        .bearer_auth(&admin)
        .send()
        .expect("documents")
        .json()
        .expect("json");
    let names: Vec<&str> = documents["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .filter_map(|d| d["name"].as_str())
        .collect();
    assert!(
        names.iter().all(|n| !n.starts_with("never-")),
        "no row for keys the collection never had: {names:?}"
    );
}

#[test]
fn requests_are_authenticated_before_their_body_is_read_and_slow_clients_are_cut() {
    let _alone = alone();
    let Some(server) = start_with(Backend::Embedded, &[]) else {
        return;
    };
    // An anonymous 60 MiB upload: the answer comes before a byte of the body is sent.
    let head = "POST /documents?name=big.pdf HTTP/1.1\r\nhost: x\r\ncontent-type: application/pdf\r\ncontent-length: 62914560\r\n\r\n";
    let (answer, _) = raw(&server, head.as_bytes(), Duration::from_secs(5));
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer:?}");
    // The same for a question with a declared body that never comes.
    let head = "POST /query HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 60000\r\n\r\n";
    let (answer, _) = raw(&server, head.as_bytes(), Duration::from_secs(5));
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer:?}");

    // Headers sent slowly: the connection is closed within the header timeout (10 s).
    let (answer, waited) = raw(
        &server,
        b"POST /auth/login HTTP/1.1\r\nhost: x\r\n",
        Duration::from_secs(30),
    );
    assert!(
        waited < Duration::from_secs(15),
        "still open after {waited:?}: {answer:?}"
    );
}

#[test]
fn password_guessing_is_throttled_and_health_stays_fast() {
    let _alone = alone();
    let Some(server) = start_with(Backend::Embedded, &[]) else {
        return;
    };
    let client = Client::new();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let prober = {
        let (stop, base) = (stop.clone(), server.base.clone());
        std::thread::spawn(move || {
            let client = Client::new();
            let mut times = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let t = Instant::now();
                let ok = client
                    .get(format!("{base}/health"))
                    .send()
                    .is_ok_and(|r| r.status().is_success());
                assert!(ok, "health failed during the flood");
                times.push(t.elapsed());
                std::thread::sleep(Duration::from_millis(50));
            }
            times
        })
    };
    // 201 wrong passwords from one address, 8 at a time, on as many accounts.
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..8)
            .map(|w| {
                let (client, base) = (&client, &server.base);
                scope.spawn(move || {
                    (0..201)
                        .filter(|n| n % 8 == w)
                        .map(|n| {
                            client
                                .post(format!("{base}/auth/login"))
                                .json(&json!({"username": format!("guess{n}"), "password": "wrong-password"}))
                                .send()
                                .expect("login")
                                .status()
                                .as_u16()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("worker"))
            .collect()
    });
    let last = client
        .post(format!("{}/auth/login", server.base))
        .json(&json!({"username": "alice", "password": "alice-password"}))
        .send()
        .expect("login");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut times = prober.join().expect("prober");

    assert_eq!(
        last.status().as_u16(),
        429,
        "the right password too, from this address"
    );
    let retry_after: u64 = last.headers()["retry-after"]
        .to_str()
        .expect("header")
        .parse()
        .expect("seconds");
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    let refused = statuses.iter().filter(|s| **s == 429).count();
    let wrong = statuses.iter().filter(|s| **s == 401).count();
    assert_eq!(refused + wrong, 201, "{statuses:?}");
    assert!(
        (100..=100 + 8).contains(&wrong),
        "{wrong} guesses answered before throttling"
    );
    times.sort();
    let p90 = times[times.len() * 9 / 10];
    eprintln!(
        "health during the flood: {} probes, median {:?}, p90 {p90:?}, max {:?}",
        times.len(),
        times[times.len() / 2],
        times[times.len() - 1]
    );
    assert!(p90 < Duration::from_millis(50), "health p90 {p90:?}");
}

#[test]
fn hostile_names_last_admin_and_the_audit_trail() {
    let _alone = alone();
    let Some(server) = start_with(Backend::Embedded, &[]) else {
        return;
    };
    let client = Client::new();
    let admin = token(&client, &server.base, "admin");
    let alice = token(&client, &server.base, "alice");
    let pdf =
        std::fs::read(common::support::repo_root().join("data/pdf/procedures-support-it.pdf"))
            .expect("sample");
    let upload = |name: &str| {
        client
            .post(format!("{}/documents", server.base))
            .query(&[("name", name)])
            .bearer_auth(&admin)
            .body(pdf.clone())
            .send()
            .expect("upload")
    };
    for name in [
        "line\r\nbreak.pdf",
        "invoice\u{202e}fdp.pdf",
        &format!("{}.pdf", "a".repeat(300)),
    ] {
        let response = upload(name);
        assert_eq!(response.status().as_u16(), 422, "{name:?}");
    }
    assert_eq!(upload("guide.pdf").status().as_u16(), 200);

    // The only administrator cannot lock everyone out.
    let demote = client
        .patch(format!("{}/admin/users/admin", server.base))
        .bearer_auth(&admin)
        .json(&json!({"active": false}))
        .send()
        .expect("patch");
    assert_eq!(demote.status().as_u16(), 409);
    let promote = client
        .patch(format!("{}/admin/users/bob", server.base))
        .bearer_auth(&admin)
        .json(&json!({"role": "admin"}))
        .send()
        .expect("patch");
    assert_eq!(promote.status().as_u16(), 200);

    let audit = |token: &str| {
        client
            .get(format!("{}/admin/audit?limit=50", server.base))
            .bearer_auth(token)
            .send()
            .expect("audit")
    };
    assert_eq!(audit(&alice).status().as_u16(), 403);
    let trail: Value = audit(&admin).json().expect("json");
    let lines: Vec<String> = trail["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| format!("{} {} {}", e["actor"], e["action"], e["target"]))
        .collect();
    assert!(
        lines.contains(&"\"admin\" \"user.role\" \"bob\"".to_string()),
        "{lines:#?}"
    );
    assert!(
        lines.contains(&"\"admin\" \"document.indexed\" \"guide.pdf\"".to_string()),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("\"admin\" \"index.publish\"")),
        "{lines:#?}"
    );
    assert!(
        server.log().contains("serving on http://127.0.0.1:"),
        "rag serve binds loopback by default and says so"
    );
}

#[test]
fn logs_are_json_lines_when_asked() {
    let _alone = alone();
    let Some(server) = start_with(
        Backend::Embedded,
        &[("RAG_LOG", "info"), ("RAG_LOG_FORMAT", "json")],
    ) else {
        return;
    };
    let log = server.log();
    let records: Vec<Value> = log
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(
        records
            .iter()
            .any(|r| r["fields"]["message"] == "listening" && r["level"] == "INFO"),
        "{log}"
    );
}

/// A decompression bomb (1 GiB of zeros, listed three times) and a CPU bomb uploaded to a
/// running service: each ends `failed` with the budget it exceeded, the index is untouched, and
/// questions and a second upload go on meanwhile. Peak memory grows by less than the decoded
/// bytes budget (256 MiB) plus 128 MiB of slack for the upload and the allocator; before the
/// budgets the same bomb took 4 GiB.
#[test]
fn hostile_pdfs_fail_within_their_budget_while_the_service_goes_on() {
    let _alone = alone();
    let Some(server) = start_with(Backend::Embedded, &[("INDEX_REFRESH_SECS", "1")]) else {
        return;
    };
    let client = Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client");
    let (admin, alice) = (
        token(&client, &server.base, "admin"),
        token(&client, &server.base, "alice"),
    );
    let version = ask(&client, &server, &alice)["index_version"].clone();
    let before = server.peak_rss_kib().expect("VmHWM");

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let asker = {
        let (stop, base, alice) = (stop.clone(), server.base.clone(), alice.clone());
        std::thread::spawn(move || {
            let client = Client::new();
            let mut answered = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let status = client
                    .post(format!("{base}/query"))
                    .bearer_auth(&alice)
                    .json(&json!({"question": QUESTION}))
                    .send()
                    .expect("query")
                    .status();
                assert_eq!(status.as_u16(), 200);
                answered += 1;
            }
            answered
        })
    };
    let upload = |name: &str, pdf: Vec<u8>| -> Value {
        let response = client
            .post(format!("{}/documents", server.base))
            .query(&[("name", name)])
            .bearer_auth(&admin)
            .body(pdf)
            .send()
            .expect("upload");
        assert_eq!(response.status().as_u16(), 200);
        response.json().expect("json")
    };
    for (name, pdf) in [
        (
            "bomb.pdf",
            hostile::decompression_bomb(hostile::BOMB_BYTES, 3),
        ),
        ("fonts.pdf", hostile::inline_font_switches(800)),
        ("forms.pdf", hostile::self_drawing_form(4, 200)),
    ] {
        let started = Instant::now();
        let outcome = upload(name, pdf);
        let document = &outcome["documents"][0];
        eprintln!("{name}: {:?}, {document}", started.elapsed());
        if name != "fonts.pdf" {
            assert_eq!(document["status"], "failed", "{outcome}");
            let reason = document["reason"].as_str().unwrap_or_default();
            assert!(reason.contains("budget"), "{reason}");
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{name}");
    }
    let second = upload(
        "notes.pdf",
        hostile::plain_text(&["Procedure: restart the print spooler from the services console."]),
    );
    assert_eq!(second["documents"][0]["status"], "indexed", "{second}");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let answered = asker.join().expect("asker");
    assert!(answered > 0, "questions were answered during the uploads");

    let growth_mib = server.peak_rss_kib().expect("VmHWM").saturating_sub(before) / 1024;
    eprintln!("peak RSS growth {growth_mib} MiB; {answered} questions answered meanwhile");
    assert!(growth_mib < 256 + 128, "peak RSS grew by {growth_mib} MiB");
    std::thread::sleep(Duration::from_secs(3));
    let after = ask(&client, &server, &alice);
    assert_ne!(
        after["index_version"], version,
        "the second upload was published"
    );
}
