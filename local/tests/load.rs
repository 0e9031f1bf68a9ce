//! Load test of POST /query from this (second) process over loopback against `rag serve`, on
//! PostgreSQL then on DynamoDB in the same run: concurrent clients, then every answered query is
//! counted in the history, then `GET /history` alone is timed.
//! `RAG_LOAD_REQUESTS` (default 500 on PostgreSQL, 2,000 on DynamoDB) and
//! `RAG_LOAD_CONCURRENCY` (default 16) set the size; run with `--nocapture` to see the table.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{Backend, Server, start, support, token};
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

/// What one store's run measured.
struct Report {
    store: &'static str,
    total: usize,
    elapsed: f64,
    query_ms: Vec<f64>,
    history_ms: Vec<f64>,
    errors: usize,
    stored: usize,
}

impl Report {
    fn print(&self) {
        eprintln!(
            "load on {}: {} requests, {:.1} s, {:.1} req/s; /query ms p50 {:.0} p90 {:.0} p99 {:.0} max {:.0}; /history ms p50 {:.1} p90 {:.1}; errors {}; history rows {}",
            self.store,
            self.total,
            self.elapsed,
            self.total as f64 / self.elapsed,
            percentile(&self.query_ms, 50.0),
            percentile(&self.query_ms, 90.0),
            percentile(&self.query_ms, 99.0),
            self.query_ms.last().copied().unwrap_or(0.0),
            percentile(&self.history_ms, 50.0),
            percentile(&self.history_ms, 90.0),
            self.errors,
            self.stored,
        );
    }
}

fn load(store: &'static str, server: &Server, total: usize, concurrency: usize) -> Report {
    let client = Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client");
    let tokens: Vec<String> = USERS
        .iter()
        .map(|u| token(&client, &server.base, u))
        .collect();

    let next = AtomicUsize::new(0);
    let errors = AtomicUsize::new(0);
    let started = Instant::now();
    let mut query_ms: Vec<f64> = std::thread::scope(|scope| {
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
    query_ms.sort_by(f64::total_cmp);

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

    // A technician's history page, alone on the server.
    let mut history_ms: Vec<f64> = (0..60)
        .map(|n| {
            let t = Instant::now();
            let r = client
                .get(format!("{}/history?limit=20", server.base))
                .bearer_auth(&tokens[n % tokens.len()])
                .send()
                .expect("history");
            assert!(r.status().is_success());
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    history_ms.sort_by(f64::total_cmp);
    Report {
        store,
        total,
        elapsed,
        query_ms,
        history_ms,
        errors: errors.load(Ordering::Relaxed),
        stored,
    }
}

#[test]
fn concurrent_queries_lose_nothing_on_postgresql_and_dynamodb() {
    let (Some(db), Some(table)) = (
        support::ScratchDb::create("load"),
        support::ScratchTable::moto("load"),
    ) else {
        return;
    };
    let concurrency = env_usize("RAG_LOAD_CONCURRENCY", 16);
    let mut reports = Vec::new();
    for (store, backend, default) in [
        ("postgresql", Backend::Postgres(&db.url), 500),
        ("dynamodb", Backend::Dynamo(&table), 2_000),
    ] {
        let Some(server) = start(backend) else {
            return;
        };
        let report = load(
            store,
            &server,
            env_usize("RAG_LOAD_REQUESTS", default),
            concurrency,
        );
        report.print();
        reports.push(report);
    }
    for r in &reports {
        assert_eq!(r.errors, 0, "failed requests on {}", r.store);
        assert_eq!(
            r.stored, r.total,
            "every answered query is in the history ({})",
            r.store
        );
    }
}
