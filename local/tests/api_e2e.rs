//! The whole service over real HTTP: `rag serve` with the real model on the sample PDF, against
//! PostgreSQL and against the embedded store — login, questions, history isolation,
//! deactivation, token forgeries and bad requests.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::{Backend, SECRET, Server, start, support};

use reqwest::StatusCode;
use reqwest::blocking::Client;
use serde_json::{Value, json};

fn login(client: &Client, base: &str, user: &str, password: &str) -> (StatusCode, Value) {
    let r = client
        .post(format!("{base}/auth/login"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .expect("login");
    (r.status(), r.json().unwrap_or(Value::Null))
}

fn token(client: &Client, base: &str, user: &str) -> String {
    let (status, body) = login(client, base, user, &format!("{user}-password"));
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().expect("token").to_string()
}

fn ask(client: &Client, base: &str, token: &str, body: Value) -> (StatusCode, Value) {
    let r = client
        .post(format!("{base}/query"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .expect("query");
    (r.status(), r.json().unwrap_or(Value::Null))
}

fn history(client: &Client, base: &str, token: &str, query: &str) -> (StatusCode, Value) {
    let r = client
        .get(format!("{base}/history{query}"))
        .bearer_auth(token)
        .send()
        .expect("history");
    (r.status(), r.json().unwrap_or(Value::Null))
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

fn forged(claims: Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("encode")
}

fn scenario(server: &Server, expected_store: &str) {
    let client = Client::new();
    let base = server.base.as_str();

    let health: Value = client
        .get(format!("{base}/health"))
        .send()
        .expect("health")
        .json()
        .expect("json");
    assert_eq!(health["status"], "ok");
    assert_eq!(health["store"], expected_store);
    assert!(health["index_version"].is_string());

    // Login: wrong password and unknown user answer the same.
    let (s1, b1) = login(&client, base, "alice", "not-her-password");
    let (s2, b2) = login(&client, base, "mallory", "whatever-password");
    assert_eq!(
        (s1, s2),
        (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
    );
    assert_eq!(b1, b2);
    // A name no store could hold is just another unknown user.
    let (s3, b3) = login(&client, base, &"é".repeat(5_000), "whatever-password");
    assert_eq!((s3, &b3), (StatusCode::UNAUTHORIZED, &b1));
    let alice = token(&client, base, "alice");
    let bob = token(&client, base, "bob");
    let admin = token(&client, base, "admin");

    // Ask, then find it in history.
    let (status, a) = ask(
        &client,
        base,
        &alice,
        json!({"question": "Comment réinitialiser mon mot de passe ?", "top_k": 3}),
    );
    assert_eq!(status, StatusCode::OK, "{a}");
    assert!(a["query_id"].as_str().is_some_and(|id| !id.is_empty()));
    assert_eq!(a["sources"][0]["page"], 1);
    assert!(a["sources"].as_array().is_some_and(|s| s.len() <= 3));
    assert!(a["latency_ms"].as_f64().is_some_and(|l| l > 0.0));
    assert_eq!(a["index_version"], health["index_version"]);
    let (status, h) = history(&client, base, &alice, "");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h["items"][0]["query_id"], a["query_id"]);
    assert_eq!(
        h["items"][0]["question"],
        "Comment réinitialiser mon mot de passe ?"
    );
    assert_eq!(h["items"][0]["answer"], a["answer"]);
    assert!(
        h["items"][0]["created_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );

    // Pagination: newest first, cursor continues.
    for q in [
        "Comment configurer le VPN ?",
        "Que faire en cas de rançongiciel ?",
    ] {
        assert_eq!(
            ask(&client, base, &alice, json!({"question": q})).0,
            StatusCode::OK
        );
    }
    let (_, p1) = history(&client, base, &alice, "?limit=2");
    assert_eq!(p1["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        p1["items"][0]["question"],
        "Que faire en cas de rançongiciel ?"
    );
    let cursor = p1["next_cursor"].as_str().expect("cursor").to_string();
    let (_, p2) = history(&client, base, &alice, &format!("?limit=2&cursor={cursor}"));
    assert_eq!(p2["items"].as_array().map(Vec::len), Some(1));
    assert!(p2["next_cursor"].is_null());

    // Another user's history is invisible; only an admin may ask for it.
    let (_, hb) = history(&client, base, &bob, "");
    assert_eq!(hb["items"].as_array().map(Vec::len), Some(0));
    let (status, body) = history(&client, base, &bob, "?user=alice");
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::FORBIDDEN, "admin_required")
    );
    let (status, body) = history(&client, base, &admin, "?user=alice");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["items"].as_array().map(Vec::len), Some(3));

    // Deactivation: bob's live token stops working at once, and he cannot log in.
    let r = client
        .patch(format!("{base}/admin/users/bob"))
        .bearer_auth(&admin)
        .json(&json!({"active": false}))
        .send()
        .expect("patch");
    assert_eq!(r.status(), StatusCode::OK);
    let (status, body) = ask(&client, base, &bob, json!({"question": "VPN ?"}));
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::FORBIDDEN, "deactivated")
    );
    assert_eq!(
        login(&client, base, "bob", "bob-password").0,
        StatusCode::FORBIDDEN
    );
    let r = client
        .patch(format!("{base}/admin/users/bob"))
        .bearer_auth(&alice)
        .json(&json!({"active": true}))
        .send()
        .expect("patch");
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "non-admin cannot reactivate"
    );

    // Admin creates an account.
    let r = client
        .post(format!("{base}/admin/users"))
        .bearer_auth(&admin)
        .json(&json!({"username": "carol", "password": "carol-password"}))
        .send()
        .expect("create");
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = client
        .post(format!("{base}/admin/users"))
        .bearer_auth(&admin)
        .json(&json!({"username": "carol", "password": "carol-password"}))
        .send()
        .expect("create again");
    assert_eq!(r.status(), StatusCode::CONFLICT);
    token(&client, base, "carol");

    // Forged tokens.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let claims =
        |iat: u64, exp: u64| json!({"sub": "alice", "role": "user", "iat": iat, "exp": exp});
    let expired = forged(claims(now - 7200, now - 3600), SECRET);
    let wrong_key = forged(
        claims(now, now + 600),
        "another-secret-of-thirty-two-bytes!!",
    );
    let mut parts: Vec<String> = alice.split('.').map(String::from).collect();
    parts[1] = forged(
        json!({"sub": "admin", "role": "admin", "iat": now, "exp": now + 600}),
        "x",
    )
    .split('.')
    .nth(1)
    .unwrap_or_default()
    .to_string();
    let tampered = parts.join(".");
    let alg_none = format!(
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
        alice.split('.').nth(1).unwrap_or_default()
    );
    for bad in [
        &expired,
        &wrong_key,
        &tampered,
        &alg_none,
        &"not.a.jwt".to_string(),
    ] {
        let (status, body) = ask(&client, base, bad, json!({"question": "VPN ?"}));
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::UNAUTHORIZED, "invalid_token"),
            "{bad}"
        );
    }
    let r = client
        .post(format!("{base}/query"))
        .json(&json!({"question": "VPN"}))
        .send()
        .expect("no token");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // Bad requests.
    // Each on its own connection: the server may close one whose body it refused unread, and a
    // pooled connection closed that way would fail the next request.
    let raw = |body: String| {
        let r = client
            .post(format!("{base}/query"))
            .bearer_auth(&alice)
            .header("content-type", "application/json")
            .header("connection", "close")
            .body(body)
            .send()
            .expect("raw");
        let status = r.status();
        (status, r.json::<Value>().unwrap_or(Value::Null))
    };
    let (status, body) = raw("{\"question\": ".into());
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "bad_request")
    );
    let (status, _) = raw("{\"top_k\": 3}".into());
    assert_eq!(status, StatusCode::BAD_REQUEST, "missing field");
    let (status, body) = raw(format!("{{\"question\": \"{}\"}}", "a".repeat(200_000)));
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large")
    );
    let (status, body) = ask(&client, base, &alice, json!({"question": "   "}));
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "empty_question")
    );
    let (status, body) = ask(&client, base, &alice, json!({"question": "é".repeat(1001)}));
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "question_too_long")
    );
    let (status, _) = ask(
        &client,
        base,
        &alice,
        json!({"question": "VPN", "top_k": 0}),
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = history(&client, base, &alice, "?cursor=abc");
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_cursor")
    );
    let r = client.get(format!("{base}/nowhere")).send().expect("404");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Nothing was lost: alice's three questions, none of the refused ones.
    let (_, all) = history(&client, base, &admin, "?user=alice&limit=100");
    assert_eq!(all["items"].as_array().map(Vec::len), Some(3));

    // The API describes itself.
    let spec: Value = client
        .get(format!("{base}/openapi.json"))
        .send()
        .expect("spec")
        .json()
        .expect("json");
    for path in [
        "/auth/login",
        "/query",
        "/history",
        "/health",
        "/admin/users",
    ] {
        assert!(
            spec["paths"][path].is_object(),
            "{path} missing from OpenAPI"
        );
    }
    let docs = client
        .get(format!("{base}/docs"))
        .send()
        .expect("docs")
        .text()
        .expect("html");
    assert!(docs.contains("swagger-ui"), "the API explorer: {docs}");
}

#[test]
fn service_over_http_with_the_embedded_store() {
    let Some(server) = start(Backend::Embedded) else {
        return;
    };
    scenario(&server, "embedded");
}

#[test]
fn service_over_http_with_postgresql() {
    let Some(db) = support::ScratchDb::create("e2e") else {
        return;
    };
    let Some(server) = start(Backend::Postgres(&db.url)) else {
        return;
    };
    scenario(&server, "postgres");
}

/// `DYNAMODB_TABLE` and a local DynamoDB with no table yet: `rag ingest`, `rag user add` and
/// `rag serve` create it, and no SQLite file is written.
#[test]
fn service_over_http_with_dynamodb() {
    let Some(table) = support::ScratchTable::moto("e2e") else {
        return;
    };
    let Some(server) = start(Backend::Dynamo(&table)) else {
        return;
    };
    scenario(&server, "dynamodb");
    assert!(
        !server.data_dir().join("rag.db").exists(),
        "the embedded database must not be written"
    );
}
