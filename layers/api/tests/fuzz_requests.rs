//! Fuzzing the parsers of untrusted input on the HTTP side: the S3/SNS event parser, and every
//! JSON request body and query string through the real router (extractors, DTOs, validation,
//! error mapping). Seeded mutations of valid inputs; a finding prints its seed and input.
//!
//! Properties: nothing panics; the event parser returns within a millisecond budget; the router
//! never answers 500 and every error is the `{"error": {"code", "message"}}` envelope.
//! `RAG_FUZZ_SECS` sets how long each target runs (default 5 s; the closing note reports a
//! 10-minute run), `RAG_FUZZ_SEED` the first seed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use http_body_util::BodyExt;
use rag_api::events;
use rag_core::accounts::{self, Tokens};
use rag_core::store::{Role, SqliteStore, Store};
use serde_json::Value;
use tower::ServiceExt;

/// SplitMix64: small, seedable, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Fragments that make JSON parsers and validators take unusual paths.
const TOKENS: &[&str] = &[
    "null",
    "true",
    "-0",
    "1e999",
    "-1",
    "18446744073709551616",
    "\"\"",
    "[]",
    "{}",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"\u{202e}\"",
    "\"docs/../x.pdf\"",
    "\"%2e%2e%2f\"",
    ",",
    ":",
    "\"",
    "\\",
    "{",
    "}",
    "[",
    "]",
    "\"Records\"",
    "\"Type\"",
    "\"Message\"",
    "\"s3\"",
    "\"key\"",
    "\"question\"",
    "\"top_k\"",
    "\"role\"",
    "\"admin\"",
];

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut input = seeds[rng.below(seeds.len())].clone();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(input.len() + 1);
        match rng.below(8) {
            0 if !input.is_empty() => {
                let i = rng.below(input.len());
                input[i] ^= 1 << rng.below(8);
            }
            1 => input.insert(at, rng.next() as u8),
            2 if at < input.len() => {
                input.remove(at);
            }
            3 => input.truncate(at),
            4 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                input.splice(at..at, token.iter().copied());
            }
            5 => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len());
                input.splice(at..at, other[from..].iter().copied());
            }
            6 => {
                let depth = 1 + rng.below(300);
                let mut nested = "[".repeat(depth).into_bytes();
                nested.extend("]".repeat(depth).bytes());
                input.splice(at..at, nested);
            }
            _ => {
                let long = "é".repeat(1 + rng.below(2000));
                input.splice(at..at, format!("\"{long}\"").into_bytes());
            }
        }
    }
    input
}

fn budget() -> Duration {
    Duration::from_secs(
        std::env::var("RAG_FUZZ_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(5),
    )
}

fn first_seed() -> u64 {
    std::env::var("RAG_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

fn event_seeds() -> Vec<Vec<u8>> {
    let record = r#"{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"rag"},"object":{"key":"docs/Guide+r%C3%A9seau.pdf","size":5}}}"#;
    let records = format!(r#"{{"Records":[{record},{record}]}}"#);
    let sns = serde_json::json!({"Type": "Notification", "Message": records}).to_string();
    let confirm =
        r#"{"Type":"SubscriptionConfirmation","SubscribeURL":"https://sns.example/confirm?x=1"}"#;
    let test = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"rag"}"#;
    [records.as_str(), sns.as_str(), confirm, test]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect()
}

#[test]
fn event_parser_never_panics() {
    let seeds = event_seeds();
    let (started, budget) = (Instant::now(), budget());
    let mut rng = Rng(first_seed());
    let mut runs = 0u64;
    let mut parsed = 0u64;
    while started.elapsed() < budget {
        let input = mutate(&mut rng, &seeds);
        let t = Instant::now();
        let outcome = std::panic::catch_unwind(|| events::parse(&input, Some("rag")));
        let elapsed = t.elapsed();
        let Ok(result) = outcome else {
            panic!(
                "finding: panic at run {runs} (seed {}) on {:?}",
                first_seed(),
                String::from_utf8_lossy(&input)
            );
        };
        assert!(
            elapsed < Duration::from_millis(200),
            "slow parse ({elapsed:?}) on {:?}",
            String::from_utf8_lossy(&input)
        );
        parsed += u64::from(result.is_ok());
        runs += 1;
    }
    eprintln!(
        "event parser: {runs} executions in {:?} ({:.0}/s), {parsed} parsed, 0 findings",
        started.elapsed(),
        runs as f64 / started.elapsed().as_secs_f64()
    );
    assert!(runs > 100);
}

const SECRET: &[u8] = b"fuzzing-secret-of-at-least-32-bytes!";

/// A route that reads a body (or, for GET, a query string): method, path, seed inputs, token.
type Target = (&'static str, String, Vec<Vec<u8>>, Option<String>);

fn targets(user: &str, admin: &str) -> Vec<Target> {
    let json = |s: &str| s.as_bytes().to_vec();
    vec![
        (
            "POST",
            "/auth/login".into(),
            vec![json(r#"{"username":"alice","password":"wrong-password"}"#)],
            None,
        ),
        (
            "POST",
            "/query".into(),
            vec![json(
                r#"{"question":"Comment configurer le VPN ?","top_k":5}"#,
            )],
            Some(user.into()),
        ),
        (
            "POST",
            "/admin/users".into(),
            vec![json(
                r#"{"username":"new.user","password":"long enough","role":"user"}"#,
            )],
            Some(admin.into()),
        ),
        (
            "PATCH",
            "/admin/users/alice".into(),
            vec![json(r#"{"active":false,"role":"admin"}"#)],
            Some(admin.into()),
        ),
        (
            "GET",
            "/history".into(),
            vec![json("limit=20&cursor=12345&user=alice")],
            Some(admin.into()),
        ),
        (
            "GET",
            "/admin/audit".into(),
            vec![json("limit=5&cursor=9")],
            Some(admin.into()),
        ),
    ]
}

async fn call(
    router: &Router,
    method: &str,
    path: &str,
    input: &[u8],
    token: Option<&str>,
) -> (u16, Vec<u8>) {
    let mut builder = axum::http::Request::builder().method(method);
    let body = if method == "GET" {
        // As a client would send it: bytes outside a query string's alphabet percent-encoded.
        const ENCODED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
            .remove(b'&')
            .remove(b'=')
            .remove(b'-')
            .remove(b'.')
            .remove(b'_');
        let query = percent_encoding::percent_encode(input, ENCODED);
        builder = builder.uri(format!("{path}?{query}"));
        Body::empty()
    } else {
        builder = builder.uri(path).header("content-type", "application/json");
        Body::from(input.to_vec())
    };
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    let request = builder.body(body).expect("a request any client could send");
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, bytes.to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_bodies_and_query_strings_get_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("rag.db")).expect("open"));
    let tokens = Arc::new(Tokens::new(SECRET, 600).expect("tokens"));
    for (name, role) in [
        ("alice", Role::User),
        ("root", Role::Admin),
        ("root2", Role::Admin),
    ] {
        accounts::create_user(store.as_ref(), "test", name, "a long password", role)
            .await
            .expect("user");
    }
    let mut issued = Vec::new();
    for name in ["alice", "root"] {
        let account = store.user(name).await.expect("user").expect("exists");
        issued.push(tokens.issue(&account).expect("token").token);
    }
    let (user, admin) = (issued[0].clone(), issued[1].clone());
    let app = rag_api::App {
        store: store.clone(),
        tokens,
        engine: None,
        ingest: None,
        generator: None,
        tracker: None,
        assigner: Arc::new(rag_core::cluster::runs::Assigner::new(Duration::from_secs(
            60,
        ))),
        edge: Default::default(),
    };
    let router = rag_api::finish(rag_api::all_routes(), app);
    let targets = targets(&user, &admin);

    let (started, budget) = (Instant::now(), budget());
    let mut rng = Rng(first_seed());
    let mut runs = 0u64;
    let mut statuses = std::collections::BTreeMap::<u16, u64>::new();
    while started.elapsed() < budget {
        let (method, path, seeds, token) = &targets[rng.below(targets.len())];
        let input = mutate(&mut rng, seeds);
        let (status, body) = call(&router, method, path, &input, token.as_deref()).await;
        let shown = || {
            format!(
                "{method} {path} {:?} -> {status} {:?}",
                String::from_utf8_lossy(&input),
                String::from_utf8_lossy(&body)
            )
        };
        assert_ne!(status, 500, "finding: {}", shown());
        if status >= 400 {
            let error: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            assert!(
                error["error"]["code"].is_string() && error["error"]["message"].is_string(),
                "finding: not the error envelope: {}",
                shown()
            );
        }
        *statuses.entry(status).or_default() += 1;
        runs += 1;
    }
    eprintln!(
        "router: {runs} executions in {:?} ({:.0}/s), statuses {statuses:?}, 0 findings",
        started.elapsed(),
        runs as f64 / started.elapsed().as_secs_f64()
    );
    assert!(runs > 50);
}
