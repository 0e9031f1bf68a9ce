//! `rag cold-start`: how long a fresh query process takes to answer its first question, with the
//! index read from the configured object store (the bucket named by S3_BUCKET, as in Lambda or
//! a new pod), and how long the index itself takes to load. Prints a table.

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use rag_core::accounts::{self, Tokens};
use rag_core::collection::{self, DEFAULT_COLLECTION};
use rag_core::store::{Role, SqliteStore};

use crate::context::Context;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = DEFAULT_COLLECTION)]
    collection: String,
    /// Fresh processes to start.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    #[arg(long, default_value = "How do I reset a forgotten password?")]
    question: String,
}

/// Secret of the throwaway processes (their tokens are signed here).
const SECRET: &str = "cold-start-benchmark-secret-0123456789";

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    if args.runs == 0 {
        bail!("--runs must be at least 1");
    }
    // The parts, in this process: the models, and the index read and decoded.
    let mut models_ms = Vec::new();
    let mut load_ms = Vec::new();
    let mut size = (0, 0);
    for _ in 0..args.runs {
        let t = Instant::now();
        drop(ctx.models()?);
        models_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let index = ctx.index(&args.collection).await?;
        load_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        size = (
            index
                .manifest
                .documents
                .iter()
                .map(|d| d.pages)
                .sum::<u32>(),
            index.chunks.len(),
        );
    }
    let version = collection::current_version(ctx.objects.as_ref(), &args.collection)
        .await?
        .unwrap_or_default();

    // A scratch account store, and a token for it signed with the processes' secret.
    let scratch = tempfile::tempdir()?;
    let store = SqliteStore::open(&scratch.path().join("rag.db"))?;
    let user = accounts::create_user(
        &store,
        rag_core::audit::CLI,
        "bench",
        "bench-password",
        Role::User,
    )
    .await?;
    let token = Tokens::new(SECRET.as_bytes(), 3600)?.issue(&user)?.token;
    drop(store);

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let exe = std::env::current_exe()?;
    let mut answered_ms = Vec::new();
    for run in 0..args.runs {
        let port = free_port()?;
        let url = format!("http://127.0.0.1:{port}");
        let start = Instant::now();
        let mut child = tokio::process::Command::new(&exe)
            .arg("--data-dir")
            .arg(scratch.path())
            .args(["serve", "--port", &port.to_string()])
            .args(["--collection", &args.collection])
            .env("JWT_SECRET", SECRET)
            .env_remove("DATABASE_URL")
            .env_remove("DYNAMODB_TABLE")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting rag serve")?;
        let answered = loop {
            if start.elapsed() > Duration::from_secs(60) {
                bail!("run {run}: no answer within 60 s");
            }
            if let Some(status) = child.try_wait()? {
                bail!("run {run}: rag serve exited with {status}");
            }
            let response = http
                .post(format!("{url}/query"))
                .bearer_auth(&token)
                .json(&serde_json::json!({ "question": args.question }))
                .send()
                .await;
            match response {
                Ok(r) if r.status().is_success() => break start.elapsed(),
                Ok(r) => bail!("run {run}: {} {}", r.status(), r.text().await?),
                // Not listening yet: it binds once the models and the index are loaded.
                Err(_) => {}
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        answered_ms.push(answered.as_secs_f64() * 1000.0);
        child.kill().await?;
    }

    println!(
        "rag cold-start — collection {} version {version} ({} pages, {} chunks), {} runs",
        args.collection, size.0, size.1, args.runs
    );
    println!("{:<48} {:>10} {:>10} {:>10}", "", "median", "min", "max");
    let row = |name: &str, values: &mut Vec<f64>| {
        let (min, max) = values
            .iter()
            .fold((f64::MAX, 0.0f64), |(a, b), v| (a.min(*v), b.max(*v)));
        println!(
            "{name:<48} {:>8.0}ms {:>8.0}ms {:>8.0}ms",
            median(values),
            min,
            max
        );
    };
    row("process start → first answered query", &mut answered_ms);
    row("  models load (in process)", &mut models_ms);
    row("  index load: get + decode (in process)", &mut load_ms);
    Ok(())
}
