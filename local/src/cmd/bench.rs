//! `rag bench`: ingest throughput, query latency, index load time and peak memory, measured in
//! one run on this machine (a scratch data directory; the real one is not touched); and the
//! clustering of 10,000 questions.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::bail;
use rag_core::chunk::ChunkParams;
use rag_core::cluster::{self, ClusterParams, QuestionPoint};
use rag_core::collection;
use rag_core::embed::Models;
use rag_core::ingest;
use rag_core::objects::DirStore;
use rag_core::query::{self, QueryOptions, question_vector};
use rand_xoshiro::Xoshiro256Plus;
use rand_xoshiro::rand_core::{RngCore, SeedableRng};

use crate::cmd::eval::load_questions;
use crate::cmd::ingest::{pdf_files, read_documents};
use crate::context::Context;

#[derive(clap::Args)]
pub struct Args {
    /// PDFs or folders to ingest.
    #[arg(default_value = "data/pdf")]
    paths: Vec<PathBuf>,
    /// Questions (JSONL with `question`) to time.
    #[arg(long, default_value = "tests/eval/qa.jsonl")]
    questions: PathBuf,
    /// Times each question is asked.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
}

fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * (values.len() - 1) as f64).round() as usize;
    values[rank.min(values.len() - 1)]
}

/// Peak resident memory of this process (Linux), in MB.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// Questions clustered in the clustering benchmark.
const CLUSTER_POINTS: usize = 10_000;

/// Times [`cluster::cluster`] (default parameters) on 10,000 question vectors as the service
/// stores them (`query::question_vector`: every model): the bench questions, repeated with
/// small seeded noise. Returns the
/// milliseconds, the k chosen and its silhouette.
fn time_clustering(models: &Models, questions: &[String]) -> anyhow::Result<(f64, usize, f32)> {
    let base = questions
        .iter()
        .map(|q| models.embed_query(q).map(|v| question_vector(&v)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut rng = Xoshiro256Plus::seed_from_u64(1);
    let points: Vec<QuestionPoint> = (0..CLUSTER_POINTS)
        .map(|i| {
            let noisy: Vec<f32> = base[i % base.len()]
                .iter()
                .map(|x| x + (rng.next_u32() as f32 / u32::MAX as f32 - 0.5) * 0.02)
                .collect();
            let norm = noisy.iter().map(|x| x * x).sum::<f32>().sqrt();
            QuestionPoint {
                id: i.to_string(),
                text: questions[i % questions.len()].clone(),
                embedding: noisy.iter().map(|x| x / norm).collect(),
                created_at: 0,
            }
        })
        .collect();
    let t = Instant::now();
    let result = cluster::cluster(&points, &ClusterParams::default())?;
    Ok((ms(t), result.k, result.silhouette))
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let files = pdf_files(&args.paths)?;
    if files.is_empty() {
        bail!("no PDF to benchmark");
    }
    let documents = read_documents(&files, None)?;
    let questions: Vec<String> = load_questions(&args.questions)?
        .into_iter()
        .map(|q| q.question)
        .collect();

    let t = Instant::now();
    let models = ctx.models()?;
    let model_load_ms = ms(t);

    let scratch = tempfile::tempdir()?;
    let store = DirStore::new(scratch.path());
    let (index, report) = ingest::ingest(
        None,
        "bench",
        &models,
        documents,
        ChunkParams::default(),
        &mut |_| {},
    )?;
    collection::publish(&store, &index, None).await?;
    let index_bytes = index.to_bytes()?.len();

    let mut load = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let loaded = collection::load_current(&store, "bench").await?;
        load.push(ms(t));
        drop(loaded);
    }

    let options = QueryOptions::default();
    let (mut embed, mut search, mut ask) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..args.rounds {
        for q in &questions {
            let t = Instant::now();
            let v = models.embed_query(q)?;
            embed.push(ms(t));
            let t = Instant::now();
            let hits = index.search(&v, q, options.top_k, options.retrieval);
            search.push(ms(t));
            std::hint::black_box(hits);
        }
    }
    for q in &questions {
        ask.push(query::ask(&index, &models, q, &options)?.latency_ms);
    }
    let (cluster_ms, cluster_k, cluster_silhouette) = time_clustering(&models, &questions)?;
    let mut both: Vec<f64> = embed.iter().zip(&search).map(|(a, b)| a + b).collect();

    println!(
        "rag bench — {} PDF(s), {} questions x {} rounds, models {}",
        files.len(),
        questions.len(),
        args.rounds,
        models.ids().join(" + ")
    );
    println!("{:<34} {:>12}", "metric", "value");
    let rows: Vec<(&str, String)> = vec![
        ("pages", report.pages.to_string()),
        ("chunks", report.chunks.to_string()),
        (
            "ingest seconds (parse+chunk)",
            format!("{:.2}", report.parse_seconds),
        ),
        (
            "ingest seconds (embed)",
            format!("{:.2}", report.embed_seconds),
        ),
        (
            "ingest seconds (index build)",
            format!(
                "{:.2}",
                report.seconds - report.parse_seconds - report.embed_seconds
            ),
        ),
        ("ingest seconds (total)", format!("{:.2}", report.seconds)),
        (
            "ingest pages/s",
            format!("{:.1}", report.pages as f64 / report.seconds),
        ),
        (
            "ingest chunks/s",
            format!("{:.1}", report.chunks as f64 / report.seconds),
        ),
        ("model load ms", format!("{model_load_ms:.0}")),
        (
            "index size KB",
            format!("{:.0}", index_bytes as f64 / 1024.0),
        ),
        (
            "index load ms p50",
            format!("{:.1}", percentile(&mut load, 50.0)),
        ),
        (
            "query embed ms p50",
            format!("{:.1}", percentile(&mut embed, 50.0)),
        ),
        (
            "query embed ms p99",
            format!("{:.1}", percentile(&mut embed, 99.0)),
        ),
        (
            "query search ms p50",
            format!("{:.2}", percentile(&mut search, 50.0)),
        ),
        (
            "query search ms p99",
            format!("{:.2}", percentile(&mut search, 99.0)),
        ),
        (
            "query embed+search ms p50",
            format!("{:.1}", percentile(&mut both, 50.0)),
        ),
        (
            "query embed+search ms p99",
            format!("{:.1}", percentile(&mut both, 99.0)),
        ),
        (
            "ask (with answer) ms p50",
            format!("{:.1}", percentile(&mut ask, 50.0)),
        ),
        (
            "ask (with answer) ms p99",
            format!("{:.1}", percentile(&mut ask, 99.0)),
        ),
        (
            "cluster 10k questions ms",
            format!("{cluster_ms:.0} (k={cluster_k}, silhouette {cluster_silhouette:.2})"),
        ),
        ("peak RSS MB", format!("{:.0}", peak_rss_mb())),
    ];
    for (name, value) in rows {
        println!("{name:<34} {value:>12}");
    }
    Ok(())
}
