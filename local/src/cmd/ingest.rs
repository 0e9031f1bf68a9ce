//! `rag ingest`: PDFs → a new published index version of the collection.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use indicatif::{ProgressBar, ProgressStyle};
use rag_core::chunk::ChunkParams;
use rag_core::collection::DEFAULT_COLLECTION;
use rag_core::documents::document_key;
use rag_core::ingest::{Document, Outcome, Progress};
use rag_core::update::{Change, update};

use crate::context::Context;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = DEFAULT_COLLECTION)]
    collection: String,
    /// Password for encrypted PDFs whose user password is not empty.
    #[arg(long, env = "RAG_PDF_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Chunk size, in model tokens.
    #[arg(long, default_value_t = ChunkParams::default().max_tokens)]
    chunk_tokens: usize,
    /// Tokens shared by consecutive chunks of a page.
    #[arg(long, default_value_t = ChunkParams::default().overlap_tokens)]
    overlap_tokens: usize,
    /// PDF files, or folders whose *.pdf files are ingested.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

/// Expands folders into their PDF files, sorted; files are kept as given.
pub fn pdf_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("reading folder {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x.eq_ignore_ascii_case("pdf")))
                .collect();
            found.sort();
            out.extend(found);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            bail!("no such file or folder: {}", p.display());
        }
    }
    Ok(out)
}

pub fn read_documents(files: &[PathBuf], password: Option<&str>) -> anyhow::Result<Vec<Document>> {
    files
        .iter()
        .map(|f| {
            Ok(Document {
                name: file_name(f),
                bytes: std::fs::read(f).with_context(|| format!("reading {}", f.display()))?,
                password: password.map(str::to_owned),
            })
        })
        .collect()
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// How long `rag ingest` waits for its MLflow runs before exiting.
const TRACKING_FLUSH: Duration = Duration::from_secs(10);

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let files = pdf_files(&args.paths)?;
    if files.is_empty() {
        bail!("no PDF found in the given paths");
    }
    if args.chunk_tokens < 32 || args.overlap_tokens * 2 > args.chunk_tokens {
        bail!("--chunk-tokens must be at least 32 and at least twice --overlap-tokens");
    }
    let documents = read_documents(&files, args.password.as_deref())?;
    ctx.objects
        .create_if_missing()
        .await
        .context("preparing the object store")?;
    // Kept in the bucket like every other trigger's documents: the bucket is the truth that
    // events are checked against.
    for document in &documents {
        let key = document_key(&args.collection, &document.name)?;
        ctx.objects
            .put(&key, &document.bytes)
            .await
            .with_context(|| format!("storing {key}"))?;
    }
    let models = ctx.models()?;

    let bar = ProgressBar::new(files.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg:40!} [{bar:30}] {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let mut on_progress = |p: Progress| match p {
        Progress::Parsed { document, .. } => {
            bar.set_message(format!("parsed {document}"));
            bar.inc(1);
        }
        Progress::Embedding { done, total } => {
            if done == 0 || bar.length() != Some(total as u64) {
                bar.set_length(total as u64);
                bar.set_position(0);
                bar.set_message("embedding passages");
            }
            bar.set_position(done as u64);
        }
    };
    let params = ChunkParams {
        max_tokens: args.chunk_tokens,
        overlap_tokens: args.overlap_tokens,
        ..ChunkParams::default()
    };
    let tracker = rag_core::track::Tracker::from_env();
    let updated = update(
        ctx.objects.as_ref(),
        &args.collection,
        &models,
        &Change::Add(documents),
        params,
        &mut on_progress,
        tracker.as_ref(),
    )
    .await
    .context("the collection is unchanged (if its current version is damaged: `rag index list` and `rag index rollback VERSION`)")?;
    bar.finish_and_clear();
    if let Some(tracker) = &tracker
        && !tracker.flush(TRACKING_FLUSH).await
    {
        eprintln!("warning: MLflow runs not logged: {:?}", tracker.stats());
    }
    let Some(report) = updated.report else {
        bail!("no report from an ingest");
    };

    let mut indexed = 0;
    for d in &report.documents {
        match &d.outcome {
            Outcome::Indexed { skipped_pages, .. } => {
                indexed += 1;
                for s in skipped_pages {
                    println!("  {} p. {}: skipped ({})", d.name, s.page, s.reason);
                }
            }
            Outcome::Unchanged => println!("  {}: unchanged", d.name),
            Outcome::Failed { reason } => println!("  {}: NOT INGESTED: {reason}", d.name),
        }
    }
    println!(
        "documents {indexed}, pages {}, chunks {}, seconds {:.1} (parse {:.1}, embed {:.1}; {} passages embedded)",
        report.pages,
        report.chunks,
        report.seconds,
        report.parse_seconds,
        report.embed_seconds,
        report.embedded
    );
    if report
        .documents
        .iter()
        .all(|d| matches!(d.outcome, Outcome::Failed { .. }))
    {
        bail!("no document could be ingested; the collection is unchanged");
    }
    println!(
        "collection {} version {}: {} documents, {} chunks",
        args.collection,
        updated.version.unwrap_or_default(),
        updated.documents,
        updated.chunks
    );
    Ok(())
}
