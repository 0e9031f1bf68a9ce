//! `rag search`: retrieval for a file of questions, one JSON line each (one model load).

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::Context as _;
use rag_core::collection::DEFAULT_COLLECTION;
use rag_core::index::Retrieval;
use rag_core::query::{self, QueryOptions};
use serde::{Deserialize, Serialize};

use crate::context::Context;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = DEFAULT_COLLECTION)]
    collection: String,
    /// Sources per question.
    #[arg(long, short)]
    k: usize,
    /// JSONL file: one object per line with at least `id` and `question`.
    #[arg(long)]
    questions: PathBuf,
    #[arg(long, value_enum, default_value = "hybrid")]
    retrieval: RetrievalArg,
}

#[derive(clap::ValueEnum, Clone, Copy)]
pub enum RetrievalArg {
    Hybrid,
    Dense,
    Lexical,
}

impl From<RetrievalArg> for Retrieval {
    fn from(r: RetrievalArg) -> Self {
        match r {
            RetrievalArg::Hybrid => Retrieval::Hybrid,
            RetrievalArg::Dense => Retrieval::Dense,
            RetrievalArg::Lexical => Retrieval::Lexical,
        }
    }
}

#[derive(Deserialize)]
struct Line {
    id: serde_json::Value,
    question: String,
}

#[derive(Serialize)]
struct Out<'a> {
    id: &'a serde_json::Value,
    sources: Vec<query::Source>,
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let index = ctx.index(&args.collection).await?;
    let models = ctx.models()?;
    let options = QueryOptions {
        top_k: args.k,
        retrieval: args.retrieval.into(),
        ..QueryOptions::default()
    };
    let file = std::fs::File::open(&args.questions)
        .with_context(|| format!("opening {}", args.questions.display()))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let q: Line = serde_json::from_str(&line).with_context(|| {
            format!(
                "{} line {}: needs `id` and `question`",
                args.questions.display(),
                n + 1
            )
        })?;
        let sources = match query::search(&index, &models, &q.question, &options) {
            Ok(r) => query::sources(&index, &r.hits),
            Err(e @ query::QueryError::Invalid(_)) => {
                eprintln!("line {}: {e}", n + 1);
                Vec::new()
            }
            Err(e) => return Err(e.into()),
        };
        serde_json::to_writer(&mut out, &Out { id: &q.id, sources })?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
