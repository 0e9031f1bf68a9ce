//! The edge tier end to end: the component under `wasmtime serve` in front of `rag serve`,
//! with public-key tokens made by `rag keys new`. What the edge refuses must never reach the
//! origin: a counting proxy between them shows it.

mod common;

use common::Backend;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::edge::{CountingProxy, Edge, component, new_key, wasmtime};
use common::llm::{completion, llm, streamed};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};

const EDGE_SECRET: &str = "edge-secret-shared-with-the-origin";

struct Stack {
    // Dropped in this order: the edge, then the proxy's origin.
    edge: Edge,
    proxy: CountingProxy,
    server: common::Server,
}

impl Stack {
    /// Stops everything and keeps the origin's data, for the next phase.
    fn into_data(self) -> tempfile::TempDir {
        let Stack {
            edge,
            proxy,
            server,
        } = self;
        drop((edge, proxy));
        server.into_data()
    }
}

/// The origin's settings for these keys.
fn origin_env<'a>(jwks: &'a str, private_pem: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("JWT_PUBLIC_KEYS", jwks),
        ("JWT_PRIVATE_KEY", private_pem),
        ("EDGE_SECRET", EDGE_SECRET),
    ]
}

fn edge_env<'a>(
    proxy: &'a CountingProxy,
    jwks: &'a str,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut env = vec![
        ("EDGE_ORIGIN", proxy.base.as_str()),
        ("JWT_PUBLIC_KEYS", jwks),
        ("JWT_TTL_SECS", "600"),
        ("EDGE_SECRET", EDGE_SECRET),
        ("EDGE_CLIENT_IP_HEADER", "x-forwarded-for"),
    ];
    env.extend_from_slice(extra);
    env
}

fn login(client: &Client, base: &str, user: &str, address: &str) -> Response {
    client
        .post(format!("{base}/auth/login"))
        .header("x-forwarded-for", address)
        .json(&json!({"username": user, "password": format!("{user}-password")}))
        .send()
        .expect("login")
}

fn token(client: &Client, base: &str, user: &str) -> String {
    let response = login(client, base, user, "198.51.100.1");
    assert_eq!(response.status(), 200, "login {user}");
    response.json::<Value>().expect("json")["token"]
        .as_str()
        .expect("token")
        .to_string()
}

fn error_code(response: Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().unwrap_or(Value::Null);
    (
        status,
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

/// A token for `sub` signed with `key` as `alg` under `kid`, living `ttl` seconds from `iat`.
fn forge(alg: Algorithm, key: &EncodingKey, kid: &str, iat: u64, ttl: u64) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_string());
    let claims = json!({"sub": "alice", "role": "admin", "iat": iat, "exp": iat + ttl});
    jsonwebtoken::encode(&header, &claims, key).expect("sign")
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The `wasmtime` CLI and the component, or why the test is skipped (a failure under CI).
fn tools() -> Option<(PathBuf, PathBuf)> {
    Some((wasmtime()?, component()?))
}

#[test]
fn the_edge_turns_away_bad_requests_without_calling_the_origin() {
    let keys = tempfile::tempdir().expect("tempdir");
    let Some((wasmtime, component)) = tools() else {
        return;
    };
    let (private, jwks) = new_key(keys.path(), "2026-12", None);
    let pem = std::fs::read_to_string(&private).expect("pem");
    // An LLM that streams its answer piece by piece (a local server speaking OpenAI's format).
    let llm = llm();
    llm.answer(completion("Utilisez le portail libre-service [1]."));
    let mut env = origin_env(&jwks, &pem);
    env.extend([
        ("LLM_PROVIDER", "openai"),
        ("LLM_MODEL", "test-model"),
        ("LLM_BASE_URL", llm.url.as_str()),
        ("LLM_TIMEOUT_MS", "5000"),
    ]);
    let Some(server) = common::start_with(Backend::Embedded, &env) else {
        return;
    };
    let proxy = CountingProxy::start(&server.base);
    let edge = Edge::start(
        &wasmtime,
        &component,
        &edge_env(
            &proxy,
            &jwks,
            &[
                ("EDGE_LOGIN_RATE", "5/60"),
                ("EDGE_CORS_ORIGINS", "https://support.example.com"),
            ],
        ),
        keys.path(),
    );
    let stack = Stack {
        edge,
        proxy,
        server,
    };
    let (edge, origin) = (stack.edge.base.as_str(), stack.server.base.as_str());
    let client = Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");

    // The origin publishes the keys it signs with, and the edge holds the same.
    let published: Value = client
        .get(format!("{edge}/.well-known/jwks.json"))
        .send()
        .and_then(|r| r.json())
        .expect("jwks");
    assert_eq!(published["keys"][0]["kid"], "2026-12");
    assert!(published["keys"][0].get("d").is_none());

    // A valid token: the answer through the edge is the origin's.
    let alice = token(&client, edge, "alice");
    let header = jsonwebtoken::decode_header(&alice).expect("header");
    assert_eq!(
        (header.alg, header.kid.as_deref()),
        (Algorithm::EdDSA, Some("2026-12"))
    );
    let question = json!({"question": "Comment réinitialiser un mot de passe ?", "top_k": 3});
    let ask = |base: &str| -> Value {
        let response = client
            .post(format!("{base}/query"))
            .bearer_auth(&alice)
            .json(&question)
            .send()
            .expect("query");
        assert_eq!(response.status(), 200);
        response.json().expect("json")
    };
    let (through_edge, direct) = (ask(edge), ask(origin));
    for field in [
        "answer",
        "sources",
        "grounded",
        "generator",
        "index_version",
    ] {
        assert_eq!(through_edge[field], direct[field], "{field}");
    }

    // Security headers on what passes through; a query is never cacheable.
    let response = client
        .get(format!("{edge}/history"))
        .bearer_auth(&alice)
        .send()
        .expect("history");
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(
        headers["strict-transport-security"]
            .to_str()
            .unwrap_or_default()
            .contains("max-age")
    );
    assert!(
        headers.contains_key("content-security-policy") && headers.contains_key("x-request-id")
    );
    assert_eq!(headers["cache-control"], "no-store");
    let spec = client
        .get(format!("{edge}/openapi.json"))
        .send()
        .expect("openapi");
    assert!(
        spec.headers()["cache-control"]
            .to_str()
            .unwrap_or_default()
            .contains("max-age")
    );

    // The counters answer the edge only: anyone else (no secret, a wrong one) gets 404 and
    // cannot spend a user's budget.
    let hit = json!({"key": "user:alice", "max": 1, "window_secs": 60});
    for secret in [None, Some("not-the-edge-secret")] {
        let mut request = client.post(format!("{origin}/edge/hits")).json(&hit);
        if let Some(secret) = secret {
            request = request.bearer_auth(secret);
        }
        assert_eq!(
            error_code(request.send().expect("hits")),
            (404, "not_found".into())
        );
    }
    let counted: Value = client
        .post(format!("{origin}/edge/hits"))
        .bearer_auth(EDGE_SECRET)
        .json(&json!({"key": "probe:x", "max": 1, "window_secs": 60}))
        .send()
        .and_then(|r| r.json())
        .expect("hits");
    assert_eq!(
        (counted["count"].clone(), counted["allowed"].clone()),
        (json!(1), json!(true))
    );

    // CORS for the configured web origin only, preflight answered at the edge.
    let before = stack.proxy.count();
    let preflight = client
        .request(reqwest::Method::OPTIONS, format!("{edge}/query"))
        .header("origin", "https://support.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .expect("preflight");
    assert_eq!(preflight.status(), 204);
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://support.example.com"
    );
    assert_eq!(
        stack.proxy.count(),
        before,
        "a preflight is the edge's own answer"
    );
    let foreign = client
        .get(format!("{edge}/health"))
        .header("origin", "https://evil.example.net")
        .send()
        .expect("health");
    assert!(
        !foreign
            .headers()
            .contains_key("access-control-allow-origin")
    );

    // Tokens the edge refuses on its own.
    let signing = EncodingKey::from_ed_pem(pem.as_bytes()).expect("pem");
    let (stranger_key, _) = new_key(keys.path(), "stranger", None);
    let stranger =
        EncodingKey::from_ed_pem(&std::fs::read(stranger_key).expect("pem")).expect("pem");
    let public_x = published["keys"][0]["x"].as_str().unwrap_or_default();
    let public = base64_url(public_x);
    let mut tampered: Vec<String> = alice.split('.').map(String::from).collect();
    tampered[1] = tampered[1].chars().rev().collect();
    let payload = alice.split('.').nth(1).unwrap_or_default();
    let refused = [
        (
            "expired",
            forge(Algorithm::EdDSA, &signing, "2026-12", now() - 700, 600),
        ),
        ("tampered", tampered.join(".")),
        (
            "alg none",
            format!(
                "{}.{payload}.",
                base64_url_encode(br#"{"alg":"none","kid":"2026-12"}"#)
            ),
        ),
        (
            "HS256 keyed with the public key",
            forge(
                Algorithm::HS256,
                &EncodingKey::from_secret(&public),
                "2026-12",
                now(),
                600,
            ),
        ),
        (
            "unknown kid",
            forge(Algorithm::EdDSA, &stranger, "stranger", now(), 600),
        ),
        (
            "another key under our kid",
            forge(Algorithm::EdDSA, &stranger, "2026-12", now(), 600),
        ),
        (
            "ten-year token",
            forge(Algorithm::EdDSA, &signing, "2026-12", now(), 315_360_000),
        ),
        ("not a JWT", "garbage".to_string()),
    ];
    for (what, token) in refused {
        let before = stack.proxy.count();
        let response = client
            .post(format!("{edge}/query"))
            .bearer_auth(&token)
            .json(&question)
            .send()
            .expect("query");
        assert_eq!(
            error_code(response),
            (401, "invalid_token".into()),
            "{what}"
        );
        assert_eq!(stack.proxy.count(), before, "{what}: the origin was called");
    }
    let before = stack.proxy.count();
    let anonymous = client
        .get(format!("{edge}/history"))
        .send()
        .expect("history");
    assert_eq!(error_code(anonymous), (401, "missing_token".into()));
    let admin_only = client
        .get(format!("{edge}/documents"))
        .bearer_auth(&alice)
        .send()
        .expect("documents");
    assert_eq!(error_code(admin_only), (403, "admin_required".into()));

    // Bodies the origin would refuse, refused at the edge with the origin's codes.
    let send = |body: Vec<u8>, content_type: &str| {
        client
            .post(format!("{edge}/query"))
            .bearer_auth(&alice)
            .header("content-type", content_type)
            .body(body)
            .send()
            .expect("query")
    };
    let big = serde_json::to_vec(&json!({"question": "x".repeat(200 * 1024)})).expect("json");
    assert_eq!(
        error_code(send(big, "application/json")),
        (413, "body_too_large".into())
    );
    assert_eq!(
        error_code(send(b"{\"question\":".to_vec(), "application/json")),
        (400, "bad_request".into())
    );
    assert_eq!(
        error_code(send(b"{\"question\":\"q\"}".to_vec(), "text/plain")),
        (400, "bad_request".into())
    );
    let long = serde_json::to_vec(&json!({"question": "é".repeat(1001)})).expect("json");
    assert_eq!(
        error_code(send(long, "application/json")),
        (422, "question_too_long".into())
    );
    let top_k = serde_json::to_vec(&json!({"question": "VPN", "top_k": 99})).expect("json");
    assert_eq!(
        error_code(send(top_k, "application/json")),
        (422, "invalid_top_k".into())
    );
    // Routes the edge does not forward.
    for (method, path) in [
        ("POST", "/events/s3"),
        ("POST", "/edge/hits"),
        ("GET", "/nowhere"),
    ] {
        let response = client
            .request(method.parse().expect("method"), format!("{edge}{path}"))
            .send()
            .expect("request");
        assert_eq!(error_code(response), (404, "not_found".into()), "{path}");
    }
    assert_eq!(
        stack.proxy.count(),
        before,
        "refused requests reached the origin: {:?}",
        stack.proxy.request_lines()
    );
    let same_as_origin = client
        .post(format!("{origin}/query"))
        .bearer_auth(&alice)
        .json(&json!({"question": "é".repeat(1001)}))
        .send()
        .expect("query");
    assert_eq!(
        error_code(same_as_origin),
        (422, "question_too_long".into())
    );

    // A login flood from one address: 429 after the configured 5, with Retry-After; another
    // address is not affected.
    let mut statuses = Vec::new();
    for _ in 0..7 {
        let response = client
            .post(format!("{edge}/auth/login"))
            .header("x-forwarded-for", "203.0.113.7")
            .json(&json!({"username": "bob", "password": "wrong password"}))
            .send()
            .expect("login");
        if response.status() == 429 {
            let retry: u64 = response.headers()["retry-after"]
                .to_str()
                .ok()
                .and_then(|v| v.parse().ok())
                .expect("retry-after");
            assert!((1..=60).contains(&retry), "{retry}");
        }
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429]);
    assert_eq!(login(&client, edge, "bob", "198.51.100.20").status(), 200);

    // A streamed answer arrives through the edge event by event, as the LLM writes it (30 ms
    // between pieces): not buffered until the end.
    let pieces = [
        "Utilisez ",
        "le ",
        "portail ",
        "libre-",
        "service ",
        "de ",
        "l'entreprise ",
        "[1].",
    ];
    llm.answer(streamed(&pieces, false));
    let response = client
        .post(format!("{edge}/query"))
        .bearer_auth(&alice)
        .header("accept", "text/event-stream")
        .json(&question)
        .send()
        .expect("stream");
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/event-stream")
    );
    let events: Vec<(String, Instant)> = BufReader::new(response)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| {
            l.strip_prefix("event:")
                .map(|e| (e.trim().to_string(), Instant::now()))
        })
        .collect();
    let names: Vec<&str> = events.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(
        names.iter().filter(|e| **e == "token").count(),
        pieces.len(),
        "{names:?}"
    );
    assert_eq!(names.last(), Some(&"done"), "{names:?}");
    let spread = events[events.len() - 1].1 - events[0].1;
    assert!(
        spread >= Duration::from_millis(120),
        "all events arrived within {spread:?}: buffered"
    );

    // One JSON log line per request, saying whether the origin was called.
    let lines = stack.edge.log_lines();
    assert!(
        lines
            .iter()
            .any(|l| l["status"] == 401 && l["origin_called"] == false)
    );
    assert!(
        lines
            .iter()
            .any(|l| l["route"] == "/query" && l["status"] == 200 && l["origin_called"] == true)
    );
    assert!(
        lines
            .iter()
            .all(|l| l["latency_ms"].is_number() && l["request_id"].is_string())
    );
}

#[test]
fn tokens_of_both_keys_pass_during_a_rotation_and_the_old_ones_fail_after() {
    let keys = tempfile::tempdir().expect("tempdir");
    let Some((wasmtime, component)) = tools() else {
        return;
    };
    let client = Client::new();
    let (old_private, old_jwks) = new_key(keys.path(), "old", None);
    let (new_private, both_jwks) = new_key(keys.path(), "new", Some(&old_jwks));
    let new_only = {
        let both: Value = serde_json::from_str(&both_jwks).expect("jwks");
        json!({"keys": [both["keys"][1].clone()]}).to_string()
    };
    let old_pem = std::fs::read_to_string(old_private).expect("pem");
    let new_pem = std::fs::read_to_string(new_private).expect("pem");

    // Each phase: the origin and the edge restarted with that phase's keys.
    let phase = |data: Option<tempfile::TempDir>, jwks: &str, pem: &str| {
        let env = origin_env(jwks, pem);
        let server = match data {
            Some(data) => common::serve(data, Backend::Embedded, &env),
            None => common::start_with(Backend::Embedded, &env).expect("server"),
        };
        let proxy = CountingProxy::start(&server.base);
        let edge = Edge::start(
            &wasmtime,
            &component,
            &edge_env(&proxy, jwks, &[]),
            keys.path(),
        );
        Stack {
            edge,
            proxy,
            server,
        }
    };
    let history = |stack: &Stack, token: &str| {
        client
            .get(format!("{}/history", stack.edge.base))
            .bearer_auth(token)
            .send()
            .expect("history")
            .status()
            .as_u16()
    };

    if !common::support::available(&common::support::model_dir().join("use-m3"), "model files") {
        return;
    }
    let before = phase(None, &old_jwks, &old_pem);
    let old_token = token(&client, &before.edge.base, "alice");
    assert_eq!(history(&before, &old_token), 200);

    let during = phase(Some(before.into_data()), &both_jwks, &new_pem);
    let new_token = token(&client, &during.edge.base, "alice");
    assert_eq!(
        jsonwebtoken::decode_header(&new_token)
            .expect("header")
            .kid
            .as_deref(),
        Some("new")
    );
    assert_eq!(
        history(&during, &old_token),
        200,
        "old key during the overlap"
    );
    assert_eq!(
        history(&during, &new_token),
        200,
        "new key during the overlap"
    );

    let after = phase(Some(during.into_data()), &new_only, &new_pem);
    let calls = after.proxy.count();
    assert_eq!(history(&after, &old_token), 401, "old key removed");
    assert_eq!(after.proxy.count(), calls, "the edge refused it alone");
    assert_eq!(history(&after, &new_token), 200);
    let direct = client
        .get(format!("{}/history", after.server.base))
        .bearer_auth(&old_token)
        .send()
        .expect("history");
    assert_eq!(direct.status(), 401, "the origin refuses it too");
}

fn base64_url(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .expect("base64url")
}

fn base64_url_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
