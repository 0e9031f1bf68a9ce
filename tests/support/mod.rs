//! Shared by the workspace's integration tests (included with `#[path]`): where the test data
//! lives, and the rule for missing data — skip on a developer machine, fail under CI.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|p| p.join("Cargo.lock").exists())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// `../shared/corpus` beside the checkout, or `$RAG_CORPUS_DIR`.
pub fn corpus_dir() -> PathBuf {
    std::env::var_os("RAG_CORPUS_DIR")
        .map_or_else(|| repo_root().join("../shared/corpus"), PathBuf::from)
}

/// The model directory: `$RAG_MODEL_DIR`, else `models/` in the repository.
pub fn model_dir() -> PathBuf {
    std::env::var_os("RAG_MODEL_DIR").map_or_else(|| repo_root().join("models"), PathBuf::from)
}

/// True when `path` exists. Otherwise: under CI (CI=true) the test fails, elsewhere it prints
/// why it is skipped and returns false.
pub fn available(path: &Path, what: &str) -> bool {
    if path.exists() {
        return true;
    }
    skip(&format!("{what} not found at {}", path.display()));
    false
}

/// True when something accepts connections at `url` (`http://host:port/...`). Otherwise: under
/// CI the test fails, elsewhere it prints why it is skipped and returns false.
pub fn service_or_skip(url: &str, what: &str) -> bool {
    use std::net::{TcpStream, ToSocketAddrs};
    let authority = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = authority.split('/').next().unwrap_or_default();
    let address = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let answers = address
        .to_socket_addrs()
        .ok()
        .and_then(|mut all| all.next())
        .is_some_and(|a| TcpStream::connect_timeout(&a, std::time::Duration::from_secs(2)).is_ok());
    if !answers {
        skip(&format!("no {what} answering at {url}"));
    }
    answers
}

/// The rule for a missing prerequisite: fail under CI (CI=true), else say the test is skipped.
fn skip(message: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{message}: required under CI");
    }
    eprintln!("SKIPPED: {message}");
}

/// A throwaway PostgreSQL database, dropped when this value is. The server is
/// `$RAG_TEST_DATABASE_URL` (default: the local trust-auth server); created with `psql`.
pub struct ScratchDb {
    pub url: String,
    admin: String,
    name: String,
}

impl ScratchDb {
    /// `None` (test skipped) when no server answers, except under CI where that fails.
    pub fn create(label: &str) -> Option<ScratchDb> {
        let admin = std::env::var("RAG_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!("rag_test_{label}_{}_{stamp}", std::process::id());
        let ok = psql(&admin, &format!("CREATE DATABASE {name}"));
        if !ok {
            skip(&format!("no PostgreSQL answering at {admin}"));
            return None;
        }
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        Some(ScratchDb {
            url: format!("{base}/{name}"),
            admin,
            name,
        })
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        psql(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

fn psql(url: &str, sql: &str) -> bool {
    std::process::Command::new("psql")
        .args([url, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A fresh DynamoDB table name on a local server, for the store to create as it does outside
/// Lambda: moto (`$RAG_TEST_DYNAMODB`, default 127.0.0.1:5001) or dynalite
/// (`$RAG_TEST_DYNALITE`, default 127.0.0.1:4567). Both keep tables in memory, so nothing is
/// dropped.
pub struct ScratchTable {
    pub endpoint: String,
    pub table: String,
}

impl ScratchTable {
    pub fn moto(label: &str) -> Option<ScratchTable> {
        Self::on(
            "RAG_TEST_DYNAMODB",
            "http://127.0.0.1:5001",
            "moto DynamoDB",
            label,
        )
    }

    pub fn dynalite(label: &str) -> Option<ScratchTable> {
        Self::on(
            "RAG_TEST_DYNALITE",
            "http://127.0.0.1:4567",
            "dynalite",
            label,
        )
    }

    fn on(setting: &str, default: &str, what: &str, label: &str) -> Option<ScratchTable> {
        let endpoint = std::env::var(setting).unwrap_or_else(|_| default.into());
        if !service_or_skip(&endpoint, what) {
            return None;
        }
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        Some(ScratchTable {
            endpoint,
            table: format!("rag-test-{label}-{}-{stamp}", std::process::id()),
        })
    }

    /// The settings a `rag` process needs to use this table.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("DYNAMODB_TABLE", self.table.clone()),
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }
}
