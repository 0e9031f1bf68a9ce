//! Load test of POST /query from this (second) process over loopback against `rag serve` on
//! PostgreSQL: concurrent clients, then every answered query is counted in the history.
//! `RAG_LOAD_REQUESTS` (default 160) and `RAG_LOAD_CONCURRENCY` (default 16) set the size;
//! run with `--nocapture` to see the latency table.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{start, support};
use reqwest::blocking::Client;
use serde_json::{Value, json};

const USERS: [&str; 3] = ["admin", "alice", "bob"];
const QUESTIONS: [&str; 6] = [
    "Comment réinitialiser mon mot de passe ?",
    "Comment configurer le VPN ?",
    "Que faire si je perds mon téléphone ?",
    "How do I report a phishing email?",
    "Quels sont les délais de prise en charge d'un ticket P1 ?",
    "Where do I add a network printer?",
];

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((p / 100.0) * (sorted.len() - 1) as f64).round() as usize]
}

#[test]
fn concurrent_queries_lose_nothing() {
    let Some(db) = support::ScratchDb::create("load") else {
        return;
    };
    let Some(server) = start(Some(&db.url)) else {
        return;
    };
    let total = env_usize("RAG_LOAD_REQUESTS", 160);
    let concurrency = env_usize("RAG_LOAD_CONCURRENCY", 16);
    let client = Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client");
    let tokens: Vec<String> = USERS
        .iter()
        .map(|u| {
            let r: Value = client
                .post(format!("{}/auth/login", server.base))
                .json(&json!({"username": u, "password": format!("{u}-password")}))
                .send()
                .expect("login")
                .json()
                .expect("json");
            r["token"].as_str().expect("token").to_string()
        })
        .collect();

    let next = AtomicUsize::new(0);
    let errors = AtomicUsize::new(0);
    let started = Instant::now();
    let mut latencies: Vec<f64> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..concurrency)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        if n >= total {
                            break mine;
                        }
                        let t = Instant::now();
                        let ok = client
                            .post(format!("{}/query", server.base))
                            .bearer_auth(&tokens[n % tokens.len()])
                            .json(&json!({"question": QUESTIONS[n % QUESTIONS.len()]}))
                            .send()
                            .is_ok_and(|r| r.status().is_success());
                        if ok {
                            mine.push(t.elapsed().as_secs_f64() * 1000.0);
                        } else {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("worker"))
            .collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);

    // Count the stored rows through the API, user by user, page by page.
    let admin = &tokens[0];
    let mut stored = 0;
    for user in USERS {
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!("{}/history?user={user}&limit=100", server.base);
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let page: Value = client
                .get(url)
                .bearer_auth(admin)
                .send()
                .expect("history")
                .json()
                .expect("json");
            stored += page["items"].as_array().map_or(0, Vec::len);
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
    }
    eprintln!(
        "load: {total} requests, {concurrency} concurrent, {:.1} s, {:.1} req/s; latency ms p50 {:.0} p90 {:.0} p99 {:.0} max {:.0}; errors {}; history rows {stored}",
        elapsed,
        total as f64 / elapsed,
        percentile(&latencies, 50.0),
        percentile(&latencies, 90.0),
        percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or(0.0),
        errors.load(Ordering::Relaxed),
    );
    assert_eq!(errors.load(Ordering::Relaxed), 0, "failed requests");
    assert_eq!(stored, total, "every answered query is in the history");
}
