//! What the edge tier costs and what it saves: `cargo bench -p rag-local --bench edge` starts
//! `rag serve` (sample ingested, public-key tokens) and the edge component under
//! `wasmtime serve` in front of it, then prints a table measured in this one run:
//! - latency of `GET /history` over 1,000 sequential requests, origin direct vs through the
//!   edge, with the edge's rate counters off and on (on: one more origin call per request);
//! - requests per second the edge answers alone (forged tokens, 401), 8 clients at once.
//!
//! Needs the model files, the component (infra/edge/build.sh) and wasmtime, as the tests do.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::edge::{Edge, component, new_key, wasmtime};
use reqwest::blocking::Client;

const REQUESTS: usize = 1000;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// p50 and p99 (ms) of `REQUESTS` sequential GETs of `url`.
fn latency(client: &Client, url: &str, token: &str) -> (f64, f64) {
    let mut ms = Vec::with_capacity(REQUESTS);
    for _ in 0..REQUESTS {
        let started = Instant::now();
        let response = client.get(url).bearer_auth(token).send().expect("request");
        assert!(response.status().is_success(), "{}", response.status());
        let _ = response.bytes();
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    (percentile(&ms, 0.5), percentile(&ms, 0.99))
}

/// Requests per second the edge refuses by itself, from 8 threads for `duration`.
fn rejections(url: &str, duration: Duration) -> f64 {
    let started = Instant::now();
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let url = url.to_string();
            std::thread::spawn(move || {
                let client = Client::new();
                let mut n = 0u64;
                while started.elapsed() < duration {
                    let r = client.get(&url).bearer_auth("forged.token.value").send();
                    assert_eq!(r.expect("request").status(), 401);
                    n += 1;
                }
                n
            })
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().expect("thread")).sum();
    total as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    // `cargo bench` passes libtest flags such as --bench: nothing to parse.
    let (Some(wasmtime), Some(component)) = (wasmtime(), component()) else {
        return;
    };
    let keys = tempfile::tempdir().expect("tempdir");
    let (private, jwks) = new_key(keys.path(), "bench", None);
    let pem = std::fs::read_to_string(private).expect("pem");
    let secret = "edge-bench-secret-of-32-bytes-long!";
    let origin_env = [
        ("JWT_PUBLIC_KEYS", jwks.as_str()),
        ("JWT_PRIVATE_KEY", pem.as_str()),
        ("EDGE_SECRET", secret),
    ];
    let Some(server) = common::start_with(common::Backend::Embedded, &origin_env) else {
        return;
    };
    let edge_env = |with_counters: bool| {
        let mut env = vec![
            ("EDGE_ORIGIN", server.base.as_str()),
            ("JWT_PUBLIC_KEYS", jwks.as_str()),
            ("JWT_TTL_SECS", "600"),
            ("EDGE_USER_RATE", "1000000/60"),
        ];
        if with_counters {
            env.push(("EDGE_SECRET", secret));
        }
        env
    };
    let client = Client::new();
    let token: String = client
        .post(format!("{}/auth/login", server.base))
        .json(&serde_json::json!({"username": "alice", "password": "alice-password"}))
        .send()
        .and_then(|r| r.json::<serde_json::Value>())
        .map(|v| v["token"].as_str().unwrap_or_default().to_string())
        .expect("login");

    let direct = latency(&client, &format!("{}/history", server.base), &token);
    let plain = Edge::start(&wasmtime, &component, &edge_env(false), keys.path());
    let through = latency(&client, &format!("{}/history", plain.base), &token);
    let refused = rejections(&format!("{}/history", plain.base), Duration::from_secs(5));
    drop(plain);
    let counted = Edge::start(&wasmtime, &component, &edge_env(true), keys.path());
    let through_counted = latency(&client, &format!("{}/history", counted.base), &token);

    println!("| GET /history, {REQUESTS} sequential requests | p50 ms | p99 ms |");
    println!("|---|---:|---:|");
    for (what, (p50, p99)) in [
        ("origin direct (rag serve)", direct),
        ("through the edge, rate counters off", through),
        ("through the edge, rate counters on", through_counted),
    ] {
        println!("| {what} | {p50:.2} | {p99:.2} |");
    }
    println!(
        "| edge added, counters off (p50 / p99) | {:.2} | {:.2} |",
        through.0 - direct.0,
        through.1 - direct.1
    );
    println!(
        "| edge added, counters on (p50 / p99) | {:.2} | {:.2} |",
        through_counted.0 - direct.0,
        through_counted.1 - direct.1
    );
    println!();
    println!("| refused by the edge alone (forged token, 8 clients, 5 s) | requests/s |");
    println!("|---|---:|");
    println!("| 401 without an origin call | {refused:.0} |");
    let size = std::fs::metadata(&component).map(|m| m.len()).unwrap_or(0);
    println!();
    println!("component: {} ({size} bytes)", component.display());
}
