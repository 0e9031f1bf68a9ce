//! A `rag serve` process for the API tests: sample ingested, users created, healthy.

#![allow(dead_code)]

pub mod edge;
pub mod llm;
#[path = "../../../tests/support/mod.rs"]
pub mod support;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::blocking::Client;

pub const SECRET: &str = "e2e-secret-of-at-least-thirty-two-bytes";

/// Where a `rag` process keeps users and history.
#[derive(Clone, Copy)]
pub enum Backend<'a> {
    /// The embedded SQLite file under the data directory.
    Embedded,
    /// PostgreSQL at this URL.
    Postgres(&'a str),
    /// A DynamoDB table on a local server.
    Dynamo(&'a support::ScratchTable),
}

/// A running `rag serve`, killed on drop.
pub struct Server {
    child: Child,
    pub base: String,
    _data: tempfile::TempDir,
}

impl Server {
    /// Peak resident memory of the server process so far (VmHWM), in KiB (Linux).
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    }

    /// Sends SIGTERM, as Kubernetes and `podman stop` do.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill -TERM");
    }

    /// The process's exit status, once it exits within `timeout`.
    pub fn exited_within(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Takes the data directory back from a stopped server, to start another over it.
    pub fn into_data(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let data = tempfile::tempdir().expect("tempdir");
        std::mem::replace(&mut self._data, data)
    }

    /// The server's data directory.
    pub fn data_dir(&self) -> &Path {
        self._data.path()
    }

    /// What the server has logged so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self._data.path().join("serve.log")).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `rag` binary over `data` and `store`, with the test models and secret.
pub fn rag(data: &Path, store: Backend<'_>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rag"));
    cmd.arg("--data-dir")
        .arg(data)
        .env("RAG_MODEL_DIR", support::model_dir())
        .env("JWT_SECRET", SECRET)
        .env_remove("DATABASE_URL")
        .env_remove("DYNAMODB_TABLE")
        .current_dir(support::repo_root());
    match store {
        Backend::Embedded => {}
        Backend::Postgres(url) => {
            cmd.env("DATABASE_URL", url);
        }
        Backend::Dynamo(table) => {
            cmd.envs(table.env());
        }
    }
    cmd
}

/// `program` as the shell would find it on PATH, else a path naming what is missing (for
/// `support::available`'s message).
pub fn on_path(program: &str) -> std::path::PathBuf {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(program))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| format!("{program} (not on PATH)").into())
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Ingests the sample, creates admin/alice/bob, starts the server and waits for /health.
pub fn start(store: Backend<'_>) -> Option<Server> {
    start_with(store, &[])
}

/// [`start`], with extra environment variables for the server.
pub fn start_with(store: Backend<'_>, env: &[(&str, &str)]) -> Option<Server> {
    if !support::available(&support::model_dir().join("use-m3"), "model files") {
        return None;
    }
    let data = tempfile::tempdir().expect("tempdir");
    let sample = support::repo_root().join("data/pdf/procedures-support-it.pdf");
    let ok = |c: &mut Command| {
        let out = c.output().expect("run rag");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ok(rag(data.path(), store).arg("ingest").arg(&sample));
    for (user, admin) in [("admin", true), ("alice", false), ("bob", false)] {
        add_user(data.path(), store, user, admin);
    }
    Some(serve(data, store, env))
}

/// A token for `user` (password `<user>-password`) from the server at `base`.
pub fn token(client: &Client, base: &str, user: &str) -> String {
    let body: serde_json::Value = client
        .post(format!("{base}/auth/login"))
        .json(&serde_json::json!({"username": user, "password": format!("{user}-password")}))
        .send()
        .expect("login")
        .json()
        .expect("json");
    body["token"].as_str().expect("token").to_string()
}

/// Creates `user` (password `<user>-password`) with the `rag` command.
pub fn add_user(data: &Path, store: Backend<'_>, user: &str, admin: bool) {
    let mut cmd = rag(data, store);
    cmd.args([
        "user",
        "add",
        user,
        "--password",
        &format!("{user}-password"),
    ]);
    if admin {
        cmd.arg("--admin");
    }
    let out = cmd.output().expect("rag user add");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Starts `rag serve` on a free port over `data` with extra environment variables, and waits
/// until /health answers.
pub fn serve(data: tempfile::TempDir, store: Backend<'_>, env: &[(&str, &str)]) -> Server {
    let port = free_port();
    let child = rag(data.path(), store)
        .args(["serve", "--port", &port.to_string()])
        .env("JWT_TTL_SECS", "600")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(
            std::fs::File::create(data.path().join("serve.log"))
                .map_or_else(|_| Stdio::null(), Stdio::from),
        )
        .spawn()
        .expect("spawn rag serve");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
        _data: data,
    };
    let client = Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if client
            .get(format!("{}/health", server.base))
            .send()
            .is_ok_and(|r| r.status().is_success())
        {
            return server;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("rag serve did not become healthy");
}
