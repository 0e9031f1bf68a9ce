//! The PDFs of a collection, as the bucket holds them under `docs/`, and what every ingest
//! trigger (S3 event, webhook, upload) does with them.
//!
//! An event only says which keys to look at: the bucket is the truth. A key whose object exists
//! is (re)ingested, a key whose object is gone is removed from the index. Duplicate, late or
//! out-of-order events therefore converge on the bucket's state, and a forged event can do no
//! more than make the service read the bucket again.

use std::collections::BTreeSet;
use std::sync::Arc;

use sha2::{Digest, Sha256};

mod manage;

use crate::audit;
use crate::chunk::ChunkParams;
use crate::collection::{self, CollectionError, DEFAULT_COLLECTION};
use crate::embed::Models;
use crate::ingest::{Document, Outcome};
use crate::objects::{ObjectError, ObjectStore};
use crate::store::{DocumentRecord, DocumentStatus, DocumentStore, Store, StoreError, now_ms};
use crate::track::Tracker;
use crate::update::{Change, UpdateError, update};

/// Where the default collection's PDFs live in the bucket; another collection's live under
/// `docs/<collection>/`.
pub const DOCS_PREFIX: &str = "docs/";

/// Most keys one event may name: an S3 notification names one object, MinIO batches a few.
pub const MAX_EVENT_KEYS: usize = 100;
/// Most keys waiting for the next synchronisation of a collection; further events are refused
/// (the bucket keeps the objects, so a later event or upload brings them in).
pub const MAX_PENDING_KEYS: usize = 1_000;
/// Longest document name, in bytes: leaves room below the usual 255-byte file-name limit.
pub const MAX_NAME_BYTES: usize = 200;

/// Why documents could not be synchronised.
#[derive(Debug, thiserror::Error)]
pub enum DocumentsError {
    #[error(
        "invalid document name {0:?}: a file name ending in .pdf, at most {MAX_NAME_BYTES} bytes, without '/', '\\', control or bidirectional-override characters"
    )]
    InvalidName(String),
    #[error("{0} is not a PDF file")]
    NotPdf(String),
    #[error("an event may name at most {MAX_EVENT_KEYS} objects")]
    TooManyKeys,
    #[error("{MAX_PENDING_KEYS} objects are already waiting to be synchronised; try again later")]
    Busy,
    #[error("the collection has no document {0}")]
    UnknownDocument(String),
    #[error("page {page} is out of range: the document has {pages} pages")]
    PageOutOfRange { page: u32, pages: u32 },
    #[error("reading the bucket: {0}")]
    Objects(#[from] ObjectError),
    #[error(transparent)]
    Collection(#[from] CollectionError),
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

/// Where a collection's PDFs live in the bucket.
pub fn docs_prefix(collection: &str) -> String {
    if collection == DEFAULT_COLLECTION {
        DOCS_PREFIX.to_string()
    } else {
        format!("{DOCS_PREFIX}{collection}/")
    }
}

/// The bucket key of a collection's document, refusing names that are not plain PDF file names.
pub fn document_key(collection: &str, name: &str) -> Result<String, DocumentsError> {
    if !valid_name(name) {
        return Err(DocumentsError::InvalidName(name.to_string()));
    }
    Ok(format!("{}{name}", docs_prefix(collection)))
}

/// The document name a bucket key stands for in a collection: `docs/<name>.pdf` → `<name>.pdf`
/// for the default one.
pub fn document_name<'k>(collection: &str, key: &'k str) -> Option<&'k str> {
    key.strip_prefix(&docs_prefix(collection))
        .filter(|name| valid_name(name))
}

/// Characters that reorder how text is displayed: a name holding them can show an admin
/// another name than the one stored ("invoice\u{202e}fdp.exe").
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_BYTES
        && !name.contains(['/', '\\'])
        && !name.chars().any(|c| c.is_control() || is_bidi_control(c))
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
    /// Keys waiting for the next synchronisation, coalesced: however many events arrive while
    /// one runs, one more follows it.
    pending: std::sync::Mutex<Pending>,
    /// Woken when the background task finds nothing left to drain.
    drained: tokio::sync::Notify,
    tracker: Option<Tracker>,
}

#[derive(Default)]
struct Pending {
    keys: BTreeSet<String>,
    /// A task is draining `keys`.
    draining: bool,
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
            pending: std::sync::Mutex::default(),
            drained: tokio::sync::Notify::new(),
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

    /// Stores an uploaded PDF under the collection's `docs/` prefix and ingests it.
    pub async fn upload(
        &self,
        states: &dyn Store,
        actor: &str,
        name: &str,
        bytes: &[u8],
    ) -> Result<Synced, DocumentsError> {
        let key = document_key(&self.collection, name)?;
        // The header may follow some junk bytes, as PDF readers allow (within the first 1 KiB).
        if !bytes[..bytes.len().min(1024)]
            .windows(5)
            .any(|w| w == b"%PDF-")
        {
            return Err(DocumentsError::NotPdf(name.to_string()));
        }
        self.objects.put(&key, bytes).await?;
        self.sync(states, actor, &[key]).await
    }

    /// Queues the keys of one bucket event and returns at once: a single background task per
    /// collection synchronises everything queued, so a flood of events costs one pending sync,
    /// not one task each. Returns how many documents the event names.
    pub fn schedule(
        self: &Arc<Self>,
        states: Arc<dyn Store>,
        keys: &[String],
    ) -> Result<usize, DocumentsError> {
        if keys.len() > MAX_EVENT_KEYS {
            return Err(DocumentsError::TooManyKeys);
        }
        let ours: Vec<&String> = keys
            .iter()
            .filter(|k| document_name(&self.collection, k).is_some())
            .collect();
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if pending.keys.len() + ours.len() > MAX_PENDING_KEYS {
            return Err(DocumentsError::Busy);
        }
        pending.keys.extend(ours.iter().map(|k| k.to_string()));
        if !pending.draining && !pending.keys.is_empty() {
            pending.draining = true;
            tokio::spawn(self.clone().drain(states));
        }
        Ok(ours.len())
    }

    /// Returns once no bucket event is queued or being applied: a process shutting down waits
    /// for this, so an event it acknowledged is not lost with it.
    pub async fn settled(&self) {
        loop {
            let drained = self.drained.notified();
            tokio::pin!(drained);
            drained.as_mut().enable();
            if !self
                .pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .draining
            {
                return;
            }
            drained.await;
        }
    }

    /// Synchronises queued keys until none is left. Failures go to the log (and the documents
    /// table says what was ingested): the caller was answered long ago.
    async fn drain(self: Arc<Self>, states: Arc<dyn Store>) {
        loop {
            let keys: Vec<String> = {
                let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
                if pending.keys.is_empty() {
                    pending.draining = false;
                    self.drained.notify_waiters();
                    return;
                }
                std::mem::take(&mut pending.keys).into_iter().collect()
            };
            if let Err(e) = self.sync(states.as_ref(), audit::BUCKET_EVENT, &keys).await {
                tracing::error!(error = %e, ?keys, "event not applied; the published index is unchanged");
            }
        }
    }

    /// Brings the index in line with the bucket for these keys and records each document's new
    /// state. Keys outside the collection's `docs/` prefix or not naming a PDF are ignored, and
    /// so is a missing object the collection never had: only what was indexed (or recorded)
    /// can be removed. Each change is recorded in the audit trail as `actor`'s doing.
    pub async fn sync(
        &self,
        states: &dyn Store,
        actor: &str,
        keys: &[String],
    ) -> Result<Synced, DocumentsError> {
        let mut names: Vec<&str> = keys
            .iter()
            .filter_map(|k| document_name(&self.collection, k))
            .collect();
        names.sort_unstable();
        names.dedup();
        if names.is_empty() {
            return Ok(Synced::default());
        }
        let _busy = self.busy.lock().await;
        let mut added = Vec::new();
        let mut missing = Vec::new();
        for name in names {
            match self
                .objects
                .get(&document_key(&self.collection, name)?)
                .await
            {
                Ok(bytes) => added.push(Document {
                    name: name.to_string(),
                    bytes,
                    password: None,
                }),
                Err(ObjectError::NotFound(_)) => missing.push(name.to_string()),
                Err(e) => return Err(e.into()),
            }
        }
        let removed = self.known(states, missing).await?;
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
            let action = format!("document.{}", record.status.as_str());
            let detail = record
                .reason
                .clone()
                .or_else(|| record.index_version.clone());
            audit::record(states, actor, &action, &record.name, detail).await;
        }
        if let Some(version) = synced.version.as_ref().filter(|_| synced.published) {
            let detail = format!("collection {}", self.collection);
            audit::record(states, actor, "index.publish", version, Some(detail)).await;
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

impl Documents {
    /// The names among `missing` that the collection has indexed or recorded: the others were
    /// never ours, and an event about them changes nothing.
    async fn known(
        &self,
        states: &dyn DocumentStore,
        missing: Vec<String>,
    ) -> Result<Vec<String>, DocumentsError> {
        if missing.is_empty() {
            return Ok(missing);
        }
        let indexed = collection::current_manifest(self.objects.as_ref(), &self.collection)
            .await
            .map_err(UpdateError::from)?;
        let recorded = states.documents(&self.collection).await?;
        let (known, unknown): (Vec<String>, Vec<String>) = missing.into_iter().partition(|name| {
            indexed
                .as_ref()
                .is_some_and(|m| m.documents.iter().any(|d| d.name == *name))
                || recorded
                    .iter()
                    .any(|d| d.name == *name && d.status != DocumentStatus::Removed)
        });
        if !unknown.is_empty() {
            tracing::info!(collection = %self.collection, ?unknown, "event for documents the collection never had: ignored");
        }
        Ok(known)
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
        assert_eq!(
            document_name("default", "docs/guide.pdf"),
            Some("guide.pdf")
        );
        assert_eq!(
            document_name("default", "docs/Guide Réseau.PDF"),
            Some("Guide Réseau.PDF")
        );
        assert_eq!(
            document_name("corpus", "docs/corpus/guide.pdf"),
            Some("guide.pdf")
        );
        assert_eq!(document_name("corpus", "docs/guide.pdf"), None);
        for key in [
            "docs/",
            "docs/a/b.pdf",
            "docs/notes.txt",
            "docs/.pdf",
            "indexes/default/CURRENT",
            "guide.pdf",
            "docs/corpus/guide.pdf",
            "docs/line\nbreak.pdf",
            "docs/tab\there.pdf",
            "docs/invoice\u{202e}fdp.pdf",
            "docs/isolate\u{2066}x.pdf",
        ] {
            assert_eq!(document_name("default", key), None, "{key:?}");
        }
        let long = format!("{}.pdf", "é".repeat(MAX_NAME_BYTES / 2));
        assert!(matches!(
            document_key("default", &long),
            Err(DocumentsError::InvalidName(_))
        ));
        let longest = format!("{}.pdf", "a".repeat(MAX_NAME_BYTES - 4));
        assert_eq!(
            document_key("default", &longest).expect("fits"),
            format!("docs/{longest}")
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn events_are_capped_and_coalesced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let objects: Arc<dyn ObjectStore> = Arc::new(DirStore::new(dir.path()));
        let states: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&dir.path().join("rag.db")).expect("db"));
        let docs = Arc::new(Documents::new(
            objects.clone(),
            Arc::new(models()),
            "default",
            ChunkParams::default(),
        ));
        let too_many: Vec<String> = (0..=MAX_EVENT_KEYS)
            .map(|i| format!("docs/{i}.pdf"))
            .collect();
        assert!(matches!(
            docs.schedule(states.clone(), &too_many),
            Err(DocumentsError::TooManyKeys)
        ));

        // While one synchronisation holds the collection (it took the first event's keys and
        // waits), events only add to the queue, up to its cap.
        let busy = docs.busy.lock().await;
        objects.put("docs/guide.pdf", &sample()).await.expect("put");
        docs.schedule(states.clone(), &["docs/first.pdf".into()])
            .expect("queued");
        while !docs.pending.lock().expect("lock").keys.is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let mut accepted = 0;
        for round in 0..MAX_PENDING_KEYS / MAX_EVENT_KEYS {
            let keys: Vec<String> = (0..MAX_EVENT_KEYS)
                .map(|i| format!("docs/r{round}-{i}.pdf"))
                .collect();
            accepted += docs.schedule(states.clone(), &keys).expect("queued");
        }
        assert_eq!(accepted, MAX_PENDING_KEYS);
        assert!(matches!(
            docs.schedule(states.clone(), &["docs/guide.pdf".into()]),
            Err(DocumentsError::Busy)
        ));
        assert_eq!(
            docs.schedule(states.clone(), &["indexes/default/CURRENT".into()])
                .expect("not a document"),
            0
        );
        drop(busy);
        wait_until_drained(&docs).await;

        // Drained: the queue takes events again, and the real document gets indexed.
        docs.schedule(states.clone(), &["docs/guide.pdf".into()])
            .expect("queued");
        wait_until_drained(&docs).await;
        let listed = states.documents("default").await.expect("list");
        assert_eq!(listed.len(), 1, "the 1,000 unknown keys left no trace");
        assert_eq!(listed[0].status, DocumentStatus::Indexed);
    }

    async fn wait_until_drained(docs: &Documents) {
        for _ in 0..600 {
            if !docs.pending.lock().expect("lock").draining {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the queue did not drain");
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
            .upload(&states, "admin", "guide.pdf", &sample())
            .await
            .expect("upload");
        assert!(first.published);
        let v1 = first.version.clone().expect("version");
        assert_eq!(first.documents[0].status, DocumentStatus::Indexed);
        assert!(first.documents[0].chunks > 0);

        // The event for that same upload arrives afterwards: nothing changes.
        let again = docs
            .sync(&states, "test", &["docs/guide.pdf".into()])
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
                "test",
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
            .sync(&states, "test", &["docs/guide.pdf".into()])
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

        // Keys the collection never had: nothing recorded, nothing published.
        let forged: Vec<String> = (0..50).map(|i| format!("docs/never-{i}.pdf")).collect();
        let ignored = docs.sync(&states, "test", &forged).await.expect("sync");
        assert!(!ignored.published && ignored.documents.is_empty());
        assert_eq!(states.documents("default").await.expect("list").len(), 2);

        // Not a PDF, or a bad name: refused before anything is stored.
        assert!(matches!(
            docs.upload(&states, "admin", "notes.pdf", b"hello").await,
            Err(DocumentsError::NotPdf(_))
        ));
        assert!(matches!(
            docs.upload(&states, "admin", "../x.pdf", &sample()).await,
            Err(DocumentsError::InvalidName(_))
        ));
        assert!(objects.get("docs/notes.pdf").await.is_err());
    }
}
