//! The PDFs of a collection, as the bucket holds them under `docs/`, and what every ingest
//! trigger (S3 event, webhook, upload) does with them.
//!
//! An event only says which keys to look at: the bucket is the truth. A key whose object exists
//! is (re)ingested, a key whose object is gone is removed from the index. Duplicate, late or
//! out-of-order events therefore converge on the bucket's state, and a forged event can do no
//! more than make the service read the bucket again.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::chunk::ChunkParams;
use crate::embed::Models;
use crate::ingest::{Document, Outcome};
use crate::objects::{ObjectError, ObjectStore};
use crate::store::{DocumentRecord, DocumentStatus, DocumentStore, StoreError, now_ms};
use crate::track::Tracker;
use crate::update::{Change, UpdateError, update};

/// Where uploaded PDFs live in the bucket.
pub const DOCS_PREFIX: &str = "docs/";

/// Why documents could not be synchronised.
#[derive(Debug, thiserror::Error)]
pub enum DocumentsError {
    #[error("invalid document name {0:?}: a file name ending in .pdf, without '/'")]
    InvalidName(String),
    #[error("{0} is not a PDF file")]
    NotPdf(String),
    #[error("reading the bucket: {0}")]
    Objects(#[from] ObjectError),
    #[error(transparent)]
    Update(#[from] UpdateError),
    #[error("recording document states: {0}")]
    Store(#[from] StoreError),
}

/// What a synchronisation did.
#[derive(Debug, Default)]
pub struct Synced {
    /// The state of each document looked at.
    pub documents: Vec<DocumentRecord>,
    /// The version `CURRENT` names afterwards.
    pub version: Option<String>,
    /// Whether a new version was published.
    pub published: bool,
}

/// The document name a bucket key stands for: `docs/<name>.pdf` → `<name>.pdf`.
pub fn document_name(key: &str) -> Option<&str> {
    key.strip_prefix(DOCS_PREFIX)
        .filter(|name| valid_name(name))
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.contains(['/', '\\', '\0'])
        && !name.starts_with('.')
        && name.to_ascii_lowercase().ends_with(".pdf")
}

/// The collection's documents and the models that index them, shared by a process's triggers.
pub struct Documents {
    objects: Arc<dyn ObjectStore>,
    models: Arc<Models>,
    collection: String,
    params: ChunkParams,
    /// One change at a time per process: ingestion is CPU-bound, and serialising avoids
    /// needless publish conflicts between a process's own triggers.
    busy: tokio::sync::Mutex<()>,
    tracker: Option<Tracker>,
}

impl Documents {
    pub fn new(
        objects: Arc<dyn ObjectStore>,
        models: Arc<Models>,
        collection: &str,
        params: ChunkParams,
    ) -> Self {
        Documents {
            objects,
            models,
            collection: collection.to_string(),
            params,
            busy: tokio::sync::Mutex::new(()),
            tracker: None,
        }
    }

    /// Logs each change, and registers each published index version, in MLflow.
    pub fn tracked(mut self, tracker: Option<Tracker>) -> Self {
        self.tracker = tracker;
        self
    }

    pub fn collection(&self) -> &str {
        &self.collection
    }

    /// Stores an uploaded PDF under `docs/<name>` and ingests it.
    pub async fn upload(
        &self,
        states: &dyn DocumentStore,
        name: &str,
        bytes: &[u8],
    ) -> Result<Synced, DocumentsError> {
        if !valid_name(name) {
            return Err(DocumentsError::InvalidName(name.to_string()));
        }
        // The header may follow some junk bytes, as PDF readers allow (within the first 1 KiB).
        if !bytes[..bytes.len().min(1024)]
            .windows(5)
            .any(|w| w == b"%PDF-")
        {
            return Err(DocumentsError::NotPdf(name.to_string()));
        }
        let key = format!("{DOCS_PREFIX}{name}");
        self.objects.put(&key, bytes).await?;
        self.sync(states, &[key]).await
    }

    /// Brings the index in line with the bucket for these keys (keys outside `docs/` or not
    /// naming a PDF are ignored) and records each document's new state.
    pub async fn sync(
        &self,
        states: &dyn DocumentStore,
        keys: &[String],
    ) -> Result<Synced, DocumentsError> {
        let mut names: Vec<&str> = keys.iter().filter_map(|k| document_name(k)).collect();
        names.sort_unstable();
        names.dedup();
        if names.is_empty() {
            return Ok(Synced::default());
        }
        let _busy = self.busy.lock().await;
        let mut added = Vec::new();
        let mut removed = Vec::new();
        for name in names {
            match self.objects.get(&format!("{DOCS_PREFIX}{name}")).await {
                Ok(bytes) => added.push(Document {
                    name: name.to_string(),
                    bytes,
                    password: None,
                }),
                Err(ObjectError::NotFound(_)) => removed.push(name.to_string()),
                Err(e) => return Err(e.into()),
            }
        }
        let mut synced = Synced::default();
        if !added.is_empty() {
            let hashes: Vec<(String, String)> = added
                .iter()
                .map(|d| (d.name.clone(), hex(&Sha256::digest(&d.bytes))))
                .collect();
            let updated = update(
                self.objects.as_ref(),
                &self.collection,
                &self.models,
                &Change::Add(added),
                self.params,
                &mut |_| {},
                self.tracker.as_ref(),
            )
            .await?;
            synced.published |= updated.published;
            synced.version = updated.version.clone();
            for report in updated.report.iter().flat_map(|r| &r.documents) {
                let sha256 = hashes
                    .iter()
                    .find(|(n, _)| *n == report.name)
                    .map(|(_, h)| h.clone());
                let record = |status, reason, pages, chunks| DocumentRecord {
                    collection: self.collection.clone(),
                    name: report.name.clone(),
                    status,
                    reason,
                    sha256: sha256.clone(),
                    pages,
                    chunks,
                    index_version: updated.version.clone(),
                    updated_at: now_ms(),
                };
                match &report.outcome {
                    Outcome::Indexed {
                        pages,
                        chunks,
                        skipped_pages,
                    } => {
                        let reason = (!skipped_pages.is_empty()).then(|| {
                            skipped_pages
                                .iter()
                                .map(|s| format!("page {} skipped: {}", s.page, s.reason))
                                .collect::<Vec<_>>()
                                .join("; ")
                        });
                        synced.documents.push(record(
                            DocumentStatus::Indexed,
                            reason,
                            *pages,
                            *chunks,
                        ));
                    }
                    Outcome::Failed { reason } => synced.documents.push(record(
                        DocumentStatus::Failed,
                        Some(reason.clone()),
                        0,
                        0,
                    )),
                    // Already indexed with these bytes (often by the event of this very
                    // upload): its recorded state stands.
                    Outcome::Unchanged => synced.documents.extend(
                        states
                            .documents(&self.collection)
                            .await?
                            .into_iter()
                            .find(|d| d.name == report.name),
                    ),
                }
            }
        }
        if !removed.is_empty() {
            let updated = update(
                self.objects.as_ref(),
                &self.collection,
                &self.models,
                &Change::Remove(removed.clone()),
                self.params,
                &mut |_| {},
                self.tracker.as_ref(),
            )
            .await?;
            synced.published |= updated.published;
            synced.version = updated.version.clone();
            for name in removed {
                synced.documents.push(DocumentRecord {
                    collection: self.collection.clone(),
                    name,
                    status: DocumentStatus::Removed,
                    reason: None,
                    sha256: None,
                    pages: 0,
                    chunks: 0,
                    index_version: updated.version.clone(),
                    updated_at: now_ms(),
                });
            }
        }
        for record in &synced.documents {
            states.record_document(record.clone()).await?;
        }
        tracing::info!(
            collection = %self.collection,
            version = ?synced.version,
            published = synced.published,
            documents = synced.documents.len(),
            "documents synchronised"
        );
        Ok(synced)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collection;
    use crate::embed::letters::models;
    use crate::objects::DirStore;
    use crate::store::SqliteStore;

    fn sample() -> Vec<u8> {
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../data/pdf/procedures-support-it.pdf"
        ))
        .expect("sample PDF")
    }

    #[test]
    fn only_pdfs_under_docs_are_documents() {
        assert_eq!(document_name("docs/guide.pdf"), Some("guide.pdf"));
        assert_eq!(
            document_name("docs/Guide Réseau.PDF"),
            Some("Guide Réseau.PDF")
        );
        for key in [
            "docs/",
            "docs/a/b.pdf",
            "docs/notes.txt",
            "docs/.pdf",
            "indexes/default/CURRENT",
            "guide.pdf",
        ] {
            assert_eq!(document_name(key), None, "{key}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn events_converge_on_the_bucket_state() {
        let dir = tempfile::tempdir().expect("tempdir");
        let objects: Arc<dyn ObjectStore> = Arc::new(DirStore::new(dir.path()));
        let states = SqliteStore::open(&dir.path().join("rag.db")).expect("db");
        let docs = Documents::new(
            objects.clone(),
            Arc::new(models()),
            "default",
            ChunkParams::default(),
        );

        // An upload publishes a version and records the document.
        let first = docs
            .upload(&states, "guide.pdf", &sample())
            .await
            .expect("upload");
        assert!(first.published);
        let v1 = first.version.clone().expect("version");
        assert_eq!(first.documents[0].status, DocumentStatus::Indexed);
        assert!(first.documents[0].chunks > 0);

        // The event for that same upload arrives afterwards: nothing changes.
        let again = docs
            .sync(&states, &["docs/guide.pdf".into()])
            .await
            .expect("sync");
        assert!(!again.published);
        assert_eq!(again.version.as_deref(), Some(v1.as_str()));
        assert_eq!(again.documents, first.documents, "its recorded state");

        // A broken PDF is recorded as failed and the published version stays.
        objects
            .put("docs/broken.pdf", b"%PDF-1.7\nnot really a pdf")
            .await
            .expect("put");
        let broken = docs
            .sync(
                &states,
                &["docs/broken.pdf".into(), "docs/readme.txt".into()],
            )
            .await
            .expect("sync");
        assert!(!broken.published);
        let listed = states.documents("default").await.expect("list");
        assert_eq!(listed[0].name, "broken.pdf");
        assert_eq!(listed[0].status, DocumentStatus::Failed);
        assert!(listed[0].reason.is_some());
        assert_eq!(
            collection::current_version(objects.as_ref(), "default")
                .await
                .expect("current"),
            Some(v1.clone())
        );

        // A late "created" event for an object deleted since: removed, as the bucket says.
        objects.delete("docs/guide.pdf").await.expect("delete");
        let gone = docs
            .sync(&states, &["docs/guide.pdf".into()])
            .await
            .expect("sync");
        assert!(gone.published);
        let index = collection::load_current(objects.as_ref(), "default")
            .await
            .expect("load")
            .expect("published");
        assert!(index.chunks.is_empty());
        let listed = states.documents("default").await.expect("list");
        assert_eq!(listed[1].status, DocumentStatus::Removed);

        // Not a PDF, or a bad name: refused before anything is stored.
        assert!(matches!(
            docs.upload(&states, "notes.pdf", b"hello").await,
            Err(DocumentsError::NotPdf(_))
        ));
        assert!(matches!(
            docs.upload(&states, "../x.pdf", &sample()).await,
            Err(DocumentsError::InvalidName(_))
        ));
        assert!(objects.get("docs/notes.pdf").await.is_err());
    }
}
