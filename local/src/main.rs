//! `rag`: ingest IT-procedure PDFs and answer questions from them, on one machine, with the
//! embedded defaults (a local directory for indexes, the ONNX model from `layers/model`).

mod cmd;
mod context;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use context::{Context, ModelOptions};

#[derive(Parser)]
#[command(
    name = "rag",
    version,
    about = "IT-support RAG assistant: cited answers from your PDF procedures"
)]
struct Cli {
    /// Local data: indexes (and later the embedded database).
    #[arg(long, global = true, env = "RAG_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    #[command(flatten)]
    model: ModelOptions,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Add PDFs (files or folders) to a collection and publish its new index.
    Ingest(cmd::ingest::Args),
    /// Answer a question with page citations.
    Ask(cmd::ask::Args),
    /// Retrieve the best pages for each question of a JSONL file.
    Search(cmd::search::Args),
    /// Score retrieval (hit@k, MRR) on a question set with expected pages.
    Eval(cmd::eval::Args),
    /// Measure ingest and query speed, index load time and memory.
    Bench(cmd::bench::Args),
    /// Time a fresh query process to its first answer, index read from the configured store.
    ColdStart(cmd::cold_start::Args),
    /// Serve the HTTP API (all handlers on one port).
    Serve(cmd::serve::Args),
    /// Manage accounts.
    #[command(subcommand)]
    User(cmd::user::Command),
    /// List or roll back index versions.
    #[command(subcommand)]
    Index(cmd::index::Command),
    /// Create token signing keys (EdDSA) and their JWKS.
    #[command(subcommand)]
    Keys(cmd::keys::Command),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Logs go to stderr: stdout carries the commands' output (`ask --json`, `search`).
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RAG_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr);
    if rag_api::json_logs() {
        logs.json().init();
    } else {
        logs.init();
    }
    let cli = Cli::parse();
    let ctx = Context::new(cli.data_dir, cli.model).await;
    match cli.command {
        Command::Ingest(args) => cmd::ingest::run(&ctx, args).await,
        Command::Ask(args) => cmd::ask::run(&ctx, args).await,
        Command::Search(args) => cmd::search::run(&ctx, args).await,
        Command::Eval(args) => cmd::eval::run(&ctx, args).await,
        Command::Bench(args) => cmd::bench::run(&ctx, args).await,
        Command::ColdStart(args) => cmd::cold_start::run(&ctx, args).await,
        Command::Serve(args) => cmd::serve::run(&ctx, args).await,
        Command::User(command) => cmd::user::run(&ctx, command).await,
        Command::Index(command) => cmd::index::run(&ctx, command).await,
        Command::Keys(command) => cmd::keys::run(command),
    }
}
