//! Changing a published collection — documents added or removed — as every trigger does it
//! (CLI, S3 event, webhook, upload): read the current version, build the next one, publish it
//! against the version read; if another writer published meanwhile, start again from theirs
//! (cheap: unchanged chunks keep their vectors).

use crate::chunk::ChunkParams;
use crate::collection::{self, CollectionError};
use crate::embed::{EmbedError, Models};
use crate::index::Index;
use crate::ingest::{self, Document, Progress, Report};
use crate::objects::ObjectStore;
use crate::track::{Kind, ModelVersion, Run, Tracker};

/// Attempts before giving up when other writers keep winning.
const ATTEMPTS: usize = 4;

/// What to change.
pub enum Change {
    Add(Vec<Document>),
    Remove(Vec<String>),
}

/// Why a change was not published.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error(transparent)]
    Collection(#[from] CollectionError),
    #[error(transparent)]
    Embed(#[from] EmbedError),
}

/// The outcome of a change.
#[derive(Debug)]
pub struct Updated {
    /// The ingest report (`None` for removals).
    pub report: Option<Report>,
    /// The version `CURRENT` names afterwards (`None`: the collection is still unpublished).
    pub version: Option<String>,
    /// Whether a new version was published (false: nothing changed).
    pub published: bool,
    pub documents: usize,
    pub chunks: usize,
}

/// Runs CPU-heavy work without starving a multi-threaded runtime's other tasks.
fn cpu<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// Applies a change to a collection and publishes the result.
///
/// With a tracker, the change is logged as an MLflow `ingest` run, and a published version as an
/// `index` run registered as a version of the collection's model with its manifest, so an
/// answer's `index_version` leads to the exact index.
pub async fn update(
    store: &dyn ObjectStore,
    collection: &str,
    models: &Models,
    change: &Change,
    params: ChunkParams,
    progress: &mut (dyn FnMut(Progress) + Send),
    tracker: Option<&Tracker>,
) -> Result<Updated, UpdateError> {
    let started = std::time::Instant::now();
    let updated = apply(store, collection, models, change, params, progress).await?;
    if let Some(tracker) = tracker {
        let seconds = started.elapsed().as_secs_f64();
        tracker.track(ingest_run(
            collection, models, change, params, &updated, seconds,
        ));
        if let Some(version) = updated.version.as_ref().filter(|_| updated.published) {
            match store
                .get(&collection::manifest_key(collection, version))
                .await
            {
                Ok(manifest) => tracker.track(index_run(collection, models, version, manifest)),
                Err(e) => tracing::warn!(%version, error = %e, "manifest not tracked"),
            }
        }
    }
    Ok(updated)
}

/// The MLflow run of one change: chunking and models; what it did and how long it took.
fn ingest_run(
    collection: &str,
    models: &Models,
    change: &Change,
    params: ChunkParams,
    updated: &Updated,
    seconds: f64,
) -> Run {
    let (kind, names): (&str, Vec<&str>) = match change {
        Change::Add(documents) => ("add", documents.iter().map(|d| d.name.as_str()).collect()),
        Change::Remove(names) => ("remove", names.iter().map(String::as_str).collect()),
    };
    let mut run = Run::new(Kind::Ingest, format!("ingest-{collection}"))
        .param("collection", collection)
        .param("change", kind)
        .param("models", models.ids().join("+"))
        .param("chunk_max_tokens", params.max_tokens)
        .param("chunk_overlap_tokens", params.overlap_tokens)
        .param("chunk_min_tokens", params.min_tokens)
        .param("index_version", updated.version.as_deref().unwrap_or("-"))
        .metric("documents", names.len() as f64)
        .metric("published", f64::from(u8::from(updated.published)))
        .metric("collection_documents", updated.documents as f64)
        .metric("collection_chunks", updated.chunks as f64)
        .metric("seconds", seconds)
        .tag("rag.documents", names.join(", "));
    if let Some(report) = &updated.report {
        let count = |f: fn(&ingest::Outcome) -> bool| {
            report.documents.iter().filter(|d| f(&d.outcome)).count() as f64
        };
        run = run
            .metric(
                "indexed",
                count(|o| matches!(o, ingest::Outcome::Indexed { .. })),
            )
            .metric(
                "failed",
                count(|o| matches!(o, ingest::Outcome::Failed { .. })),
            )
            .metric(
                "unchanged",
                count(|o| matches!(o, ingest::Outcome::Unchanged)),
            )
            .metric("pages", f64::from(report.pages))
            .metric("chunks", f64::from(report.chunks))
            .metric("embedded", f64::from(report.embedded))
            .metric("parse_seconds", report.parse_seconds)
            .metric("embed_seconds", report.embed_seconds);
    }
    run
}

/// A published index version, with its manifest as the artifact of a registered model version.
fn index_run(collection: &str, models: &Models, version: &str, manifest: Vec<u8>) -> Run {
    let mut run = Run::new(Kind::Index, format!("index-{collection}-{version}"))
        .param("collection", collection)
        .param("index_version", version)
        .param("models", models.ids().join("+"))
        .artifact("index/manifest.json", manifest);
    run.register = Some(ModelVersion {
        model: format!("rag-index-{collection}"),
        description: format!("index version {version} of collection {collection}"),
        tags: vec![("index_version".into(), version.to_string())],
    });
    run
}

async fn apply(
    store: &dyn ObjectStore,
    collection: &str,
    models: &Models,
    change: &Change,
    params: ChunkParams,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<Updated, UpdateError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let base = collection::load_base(store, collection).await?;
        let (next, report): (Option<Index>, Option<Report>) = match change {
            Change::Add(documents) => {
                let (index, report) = cpu(|| {
                    ingest::ingest(
                        base.index.as_ref(),
                        collection,
                        models,
                        documents.clone(),
                        params,
                        progress,
                    )
                })?;
                let changed = base
                    .index
                    .as_ref()
                    .is_none_or(|b| b.version() != index.version());
                let indexed_any = report
                    .documents
                    .iter()
                    .any(|d| matches!(d.outcome, ingest::Outcome::Indexed { .. }));
                (Some(index).filter(|_| changed && indexed_any), Some(report))
            }
            Change::Remove(names) => (
                base.index
                    .as_ref()
                    .and_then(|b| cpu(|| ingest::remove(b, names))),
                None,
            ),
        };
        let Some(next) = next else {
            let current = base.index.as_ref();
            return Ok(Updated {
                report,
                version: current.map(Index::version),
                published: false,
                documents: current.map_or(0, |i| i.manifest.documents.len()),
                chunks: current.map_or(0, |i| i.chunks.len()),
            });
        };
        match collection::publish(store, &next, base.tag.as_ref()).await {
            Ok(version) => {
                return Ok(Updated {
                    report,
                    version: Some(version),
                    published: true,
                    documents: next.manifest.documents.len(),
                    chunks: next.chunks.len(),
                });
            }
            Err(CollectionError::Conflict(_)) if attempt < ATTEMPTS => {
                tracing::info!(
                    collection,
                    attempt,
                    "another writer published first; retrying"
                );
            }
            Err(e) => return Err(e.into()),
        }
    }
}
