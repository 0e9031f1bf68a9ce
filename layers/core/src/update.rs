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
pub async fn update(
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
