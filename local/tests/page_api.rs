//! The routes the web page adds, over real HTTP on `rag serve`: the page and the API explorer
//! themselves, feedback, history search, a cited PDF, the admins' users, feedback, document
//! removal and index versions; and what an anonymous caller, a user and a hostile name get.

mod common;

use common::{Backend, start, token};
use reqwest::StatusCode;
use reqwest::blocking::{Client, RequestBuilder};
use serde_json::{Value, json};

fn send(request: RequestBuilder) -> (StatusCode, Value) {
    let r = request.send().expect("request");
    (r.status(), r.json().unwrap_or(Value::Null))
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

#[test]
fn the_page_and_the_explorer_are_served_with_a_strict_policy() {
    let Some(server) = start(Backend::Embedded) else {
        return;
    };
    let client = Client::new();
    let page = client
        .get(format!("{}/", server.base))
        .send()
        .expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    let headers = page.headers().clone();
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/html")
    );
    assert_eq!(headers["cache-control"], "no-cache");
    let csp = headers["content-security-policy"].to_str().expect("csp");
    assert!(
        csp.contains("default-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let html = page.text().expect("html");
    let script = html
        .split("src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a script");
    let asset = client
        .get(format!("{}{script}", server.base))
        .send()
        .expect("asset");
    assert_eq!(asset.status(), StatusCode::OK);
    assert!(
        asset.headers()["cache-control"]
            .to_str()
            .unwrap_or("")
            .contains("immutable")
    );

    let docs = client
        .get(format!("{}/docs", server.base))
        .send()
        .expect("docs");
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().expect("html").contains("swagger"), "Swagger UI");
    let missing = client
        .get(format!("{}/assets/nothing-0000.js", server.base))
        .send()
        .expect("missing");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[test]
fn feedback_history_search_pdfs_and_admin_routes() {
    let Some(server) = start(Backend::Embedded) else {
        return;
    };
    let base = server.base.as_str();
    let client = Client::new();
    let (alice, bob, admin) = (
        token(&client, base, "alice"),
        token(&client, base, "bob"),
        token(&client, base, "admin"),
    );
    let ask = |token: &str, question: &str| -> Value {
        let (status, body) = send(
            client
                .post(format!("{base}/query"))
                .bearer_auth(token)
                .json(&json!({"question": question})),
        );
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    };
    let first = ask(&alice, "Comment réinitialiser mon mot de passe ?");
    ask(&alice, "Le VPN ne se connecte pas");
    let bobs = ask(&bob, "Comment réinitialiser le mot de passe ?");
    let id = first["query_id"].as_str().expect("id");

    // Every new route: an anonymous caller is refused before anything runs; a plain user may
    // not use the admins' ones.
    for (method, path, admin_only) in [
        ("GET", "/admin/users", true),
        ("GET", "/admin/feedback", true),
        ("GET", "/index/versions", true),
        ("POST", "/index/rollback", true),
        ("DELETE", "/documents/procedures-support-it.pdf", true),
        ("GET", "/documents/procedures-support-it.pdf", false),
        ("POST", "/queries/1/feedback", false),
    ] {
        let request = |token: Option<&str>| {
            let mut r = client
                .request(method.parse().expect("method"), format!("{base}{path}"))
                .json(&json!({"version": "x", "useful": true}));
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            send(r)
        };
        let (status, body) = request(None);
        assert_eq!(
            (status, code(&body)),
            (StatusCode::UNAUTHORIZED, "missing_token"),
            "{method} {path}"
        );
        if admin_only {
            assert_eq!(
                request(Some(&bob)).0,
                StatusCode::FORBIDDEN,
                "{method} {path}"
            );
        }
    }

    // Feedback: only the asker, only on a real question, a bounded comment.
    let feedback = |token: Option<&str>, id: &str, body: Value| {
        let mut r = client
            .post(format!("{base}/queries/{id}/feedback"))
            .json(&body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        send(r)
    };
    let verdict = json!({"useful": false, "comment": "  Il manque l'étape 3  "});
    let (status, _) = feedback(None, id, verdict.clone());
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = feedback(Some(&bob), id, verdict.clone());
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "unknown_query")
    );
    for other in ["0", "-1", "abc", "99999999"] {
        let (status, _) = feedback(Some(&alice), other, verdict.clone());
        assert_eq!(status, StatusCode::NOT_FOUND, "{other}");
    }
    let (status, body) = feedback(
        Some(&alice),
        id,
        json!({"useful": true, "comment": "x".repeat(1_001)}),
    );
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "comment_too_long")
    );
    let (status, body) = feedback(Some(&alice), id, json!({"comment": "no verdict"}));
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "bad_request"),
        "{body}"
    );
    let (status, body) = feedback(Some(&alice), id, verdict);
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["comment"], "Il manque l'étape 3", "trimmed");

    // History: the feedback is there; searching ignores case and accents; only one's own.
    let (status, body) = send(
        client
            .get(format!("{base}/history?q=REINITIALISER"))
            .bearer_auth(&alice),
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    let items = body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{body}");
    assert_eq!(items[0]["query_id"], id);
    assert_eq!(items[0]["feedback"]["useful"], false);
    assert_eq!(items[0]["grounded"], first["grounded"]);
    assert!(items.iter().all(|i| i["query_id"] != bobs["query_id"]));
    let (status, body) = send(
        client
            .get(format!("{base}/history?q={}", "a".repeat(201)))
            .bearer_auth(&alice),
    );
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_search")
    );

    // Admins see the feedback with who gave it; users may not.
    let (status, _) = send(
        client
            .get(format!("{base}/admin/feedback"))
            .bearer_auth(&alice),
    );
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = send(
        client
            .get(format!("{base}/admin/feedback"))
            .bearer_auth(&admin),
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"][0]["username"], "alice");
    assert_eq!(
        body["items"][0]["question"],
        "Comment réinitialiser mon mot de passe ?"
    );
    let (status, body) = send(
        client
            .get(format!("{base}/admin/users"))
            .bearer_auth(&admin),
    );
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = body["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter_map(|u| u["username"].as_str())
        .collect();
    assert_eq!(names, ["admin", "alice", "bob"]);
    let (status, _) = send(client.get(format!("{base}/admin/users")).bearer_auth(&bob));
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The cited PDF: any user, the page checked, nothing but indexed documents.
    let source = &first["sources"][0];
    let name = source["document"].as_str().expect("document");
    let page = source["page"].as_u64().expect("page");
    let pdf = client
        .get(format!("{base}/documents/{name}?page={page}"))
        .bearer_auth(&bob)
        .send()
        .expect("pdf");
    assert_eq!(pdf.status(), StatusCode::OK);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().expect("bytes").starts_with(b"%PDF-"));
    let get = |path: &str, token: Option<&str>| {
        let mut r = client.get(format!("{base}{path}"));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        send(r)
    };
    assert_eq!(
        get(&format!("/documents/{name}"), None).0,
        StatusCode::UNAUTHORIZED
    );
    for (path, status, expected) in [
        (
            format!("/documents/{name}?page=0"),
            StatusCode::BAD_REQUEST,
            "page_out_of_range",
        ),
        (
            format!("/documents/{name}?page=9999"),
            StatusCode::BAD_REQUEST,
            "page_out_of_range",
        ),
        (
            "/documents/absent.pdf".to_string(),
            StatusCode::NOT_FOUND,
            "unknown_document",
        ),
        (
            "/documents/..%2F..%2Findexes%2Fdefault%2FCURRENT".to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_document_name",
        ),
        (
            "/documents/notes.txt".to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_document_name",
        ),
    ] {
        let (got, body) = get(&path, Some(&bob));
        assert_eq!((got, code(&body)), (status, expected), "{path}");
    }

    // Index versions and removal: admins only; a removal publishes a version without the
    // document, and rolling back brings it back.
    assert_eq!(get("/index/versions", Some(&bob)).0, StatusCode::FORBIDDEN);
    let (status, before) = get("/index/versions", Some(&admin));
    assert_eq!(status, StatusCode::OK, "{before}");
    let current = before["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .find(|v| v["current"] == true)
        .expect("a current version")["version"]
        .as_str()
        .expect("version")
        .to_string();
    let delete = |token: &str, name: &str| {
        send(
            client
                .delete(format!("{base}/documents/{name}"))
                .bearer_auth(token),
        )
    };
    assert_eq!(delete(&bob, name).0, StatusCode::FORBIDDEN);
    assert_eq!(delete(&admin, "absent.pdf").0, StatusCode::NOT_FOUND);
    let (status, body) = delete(&admin, name);
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["documents"][0]["status"], "removed");
    assert!(body["published"].as_bool().expect("published"));
    assert_eq!(
        get(&format!("/documents/{name}"), Some(&bob)).0,
        StatusCode::NOT_FOUND
    );

    let rollback = |version: &str| {
        send(
            client
                .post(format!("{base}/index/rollback"))
                .bearer_auth(&admin)
                .json(&json!({"version": version})),
        )
    };
    assert_eq!(rollback("0000000000").0, StatusCode::NOT_FOUND);
    let (status, body) = rollback(&current);
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, after) = get("/index/versions", Some(&admin));
    let now_current: Vec<&Value> = after["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .filter(|v| v["current"] == true)
        .collect();
    assert_eq!(now_current.len(), 1);
    assert_eq!(now_current[0]["version"], current.as_str());
    let (_, audit) = get("/admin/audit", Some(&admin));
    assert!(
        audit["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .any(|e| e["action"] == "index.rollback" && e["actor"] == "admin"),
        "{audit}"
    );
}
