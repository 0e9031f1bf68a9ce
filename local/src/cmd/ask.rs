//! `rag ask`: one question, a cited answer.

use rag_core::collection::DEFAULT_COLLECTION;
use rag_core::query::{self, DEFAULT_TOP_K, QueryOptions};

use crate::context::Context;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = DEFAULT_COLLECTION)]
    collection: String,
    /// Print one JSON object: {answer, sources, latency_ms, ...}.
    #[arg(long)]
    json: bool,
    /// Sources to return.
    #[arg(long, short, default_value_t = DEFAULT_TOP_K)]
    k: usize,
    question: String,
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let index = ctx.index(&args.collection).await?;
    let models = ctx.models()?;
    let options = QueryOptions {
        top_k: args.k,
        ..QueryOptions::default()
    };
    let answer = query::ask(&index, &models, &args.question, &options)?;
    if args.json {
        println!("{}", serde_json::to_string(&answer)?);
        return Ok(());
    }
    println!("{}\n", answer.answer);
    if !answer.sources.is_empty() {
        println!("Sources:");
        for (i, s) in answer.sources.iter().enumerate() {
            println!(
                "  [{}] {}, p. {} (score {:.3})",
                i + 1,
                s.document,
                s.page,
                s.score
            );
        }
    }
    println!("\n({:.0} ms)", answer.latency_ms);
    Ok(())
}
