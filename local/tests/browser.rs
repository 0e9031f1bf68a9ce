//! The web page in a real browser: `tests/browser/ui.mjs` drives headless Chromium
//! (playwright-core) through a technician's and an admin's work, on `rag serve` and on the edge
//! component in front of it. It fails on any request to another host and on any serious or
//! critical accessibility violation (axe-core) of the login, ask and history pages.
//!
//! `UPDATE_SCREENSHOTS=1` writes the screenshots to docs/screenshots/ (else a scratch dir).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::edge::{Edge, component, new_key, wasmtime};
use common::{Backend, support};
use reqwest::blocking::Client;
use serde_json::json;

/// Questions a team asks, so that clustering has something to group.
const SEEDED: &[&str] = &[
    "Comment réinitialiser mon mot de passe ?",
    "Mot de passe oublié, que faire ?",
    "Comment changer mon mot de passe Windows ?",
    "Le VPN ne se connecte pas",
    "Comment installer le client VPN ?",
    "Erreur de connexion au VPN depuis la maison",
    "L'imprimante n'imprime plus",
    "Comment ajouter une imprimante réseau ?",
    "How do I reset my password?",
    "How do I connect to the VPN?",
    "Où trouver le formulaire de demande de matériel ?",
    "Comment signaler un incident de sécurité ?",
];

/// node, Chromium and the test's npm packages, or why the test is skipped (a failure under CI).
fn browser_tools() -> Option<(PathBuf, PathBuf, PathBuf)> {
    let script = support::repo_root().join("tests/browser/ui.mjs");
    let packages = support::repo_root().join("tests/browser/node_modules/playwright-core");
    let chromium =
        std::env::var_os("CHROMIUM").map_or_else(|| "/usr/bin/chromium".into(), PathBuf::from);
    let node = common::on_path("node");
    let found = support::available(&node, "node")
        && support::available(&chromium, "Chromium (apt-get install chromium)")
        && support::available(
            &packages,
            "the browser test's packages (npm ci --prefix tests/browser)",
        );
    found.then_some((node, chromium, script))
}

/// A second document for the admin to upload.
fn second_pdf() -> Option<PathBuf> {
    let pdf = support::corpus_dir().join("fr/CASES_Monarc2016FR-web.pdf");
    support::available(&pdf, "the corpus").then_some(pdf)
}

/// Asks the seeded questions as `user`, straight at the origin.
fn seed(client: &Client, base: &str, user: &str) {
    let token = common::token(client, base, user);
    for question in SEEDED {
        let response = client
            .post(format!("{base}/query"))
            .bearer_auth(&token)
            .json(&json!({"question": question}))
            .send()
            .expect("seed question");
        assert_eq!(response.status(), 200, "seeding {question}");
    }
}

/// Runs the browser script against `base`; its output when it fails.
fn drive(
    tools: &(PathBuf, PathBuf, PathBuf),
    base: &str,
    pdf: &Path,
    shots: &Path,
) -> Result<(), String> {
    let (node, chromium, script) = tools;
    let out = Command::new(node)
        .arg(script)
        .env("BASE_URL", base)
        .env("CHROMIUM", chromium)
        .env("ADMIN_USER", "admin")
        .env("ADMIN_PASSWORD", "admin-password")
        .env("TECH_USER", "alice")
        .env("TECH_PASSWORD", "alice-password")
        .env("SECOND_PDF", pdf)
        .env("SCREENSHOT_DIR", shots)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    match out.status.success() {
        true => Ok(()),
        false => Err(format!(
            "the browser test failed against {base}:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )),
    }
}

fn screenshots() -> (PathBuf, Option<tempfile::TempDir>) {
    if std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
        let dir = support::repo_root().join("docs/screenshots");
        std::fs::create_dir_all(&dir).expect("docs/screenshots");
        return (dir, None);
    }
    let scratch = tempfile::tempdir().expect("tempdir");
    (scratch.path().to_path_buf(), Some(scratch))
}

fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client")
}

#[test]
fn a_technician_and_an_admin_work_in_the_page_served_by_rag_serve() {
    let (Some(tools), Some(pdf)) = (browser_tools(), second_pdf()) else {
        return;
    };
    let Some(server) = common::start(Backend::Embedded) else {
        return;
    };
    seed(&client(), &server.base, "bob");
    let (shots, _scratch) = screenshots();
    if let Err(e) = drive(&tools, &server.base, &pdf, &shots) {
        panic!("{e}\nserver log:\n{}", server.log());
    }
    assert!(
        shots.join("ask-mobile.png").is_file(),
        "no screenshot taken"
    );
}

#[test]
fn the_same_page_works_through_the_edge() {
    let (Some(tools), Some(pdf)) = (browser_tools(), second_pdf()) else {
        return;
    };
    let (Some(wasmtime), Some(component)) = (wasmtime(), component()) else {
        return;
    };
    let keys = tempfile::tempdir().expect("tempdir");
    let (private, jwks) = new_key(keys.path(), "2026-12", None);
    let pem = std::fs::read_to_string(&private).expect("pem");
    let secret = "edge-secret-shared-with-the-origin";
    let origin_env = [
        ("JWT_PUBLIC_KEYS", jwks.as_str()),
        ("JWT_PRIVATE_KEY", pem.as_str()),
        ("EDGE_SECRET", secret),
    ];
    let Some(server) = common::start_with(Backend::Embedded, &origin_env) else {
        return;
    };
    let edge = Edge::start(
        &wasmtime,
        &component,
        &[
            ("EDGE_ORIGIN", server.base.as_str()),
            ("JWT_PUBLIC_KEYS", jwks.as_str()),
            ("EDGE_SECRET", secret),
        ],
        keys.path(),
    );
    seed(&client(), &server.base, "bob");
    let scratch = tempfile::tempdir().expect("tempdir");
    if let Err(e) = drive(&tools, &edge.base, &pdf, scratch.path()) {
        let failed: Vec<_> = edge
            .log_lines()
            .into_iter()
            .filter(|l| l["status"].as_u64().is_some_and(|s| s >= 500))
            .collect();
        panic!("{e}\nthe edge's failed requests: {failed:#?}");
    }
    // The page itself came from the component, not the origin.
    let served: Vec<_> = edge
        .log_lines()
        .into_iter()
        .filter(|l| l["route"] == "asset")
        .collect();
    assert!(!served.is_empty(), "the edge served no page file");
    assert!(served.iter().all(|l| l["origin_called"] == false));
}
