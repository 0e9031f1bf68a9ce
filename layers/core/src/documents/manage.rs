//! What admins and readers do with the collection besides adding PDFs: read a cited PDF, remove
//! a document, list the index versions and roll back to one.

use super::{Documents, DocumentsError, Synced, document_key};
use crate::audit;
use crate::collection::{self, VersionInfo};
use crate::objects::ObjectError;
use crate::store::{DocumentRecord, DocumentStatus, Store};

impl Documents {
    /// The collection's documents by name: each recorded state, and those the current index
    /// holds without one (`rag ingest` keeps no states), as indexed.
    pub async fn list(&self, states: &dyn Store) -> Result<Vec<DocumentRecord>, DocumentsError> {
        let mut records = states.documents(&self.collection).await?;
        if let Some(manifest) =
            collection::current_manifest(self.objects.as_ref(), &self.collection).await?
        {
            let version = manifest.version();
            for d in manifest.documents {
                if records.iter().any(|r| r.name == d.name) {
                    continue;
                }
                records.push(DocumentRecord {
                    collection: self.collection.clone(),
                    name: d.name,
                    status: DocumentStatus::Indexed,
                    reason: None,
                    sha256: Some(d.sha256),
                    pages: d.pages,
                    chunks: d.chunks,
                    index_version: Some(version.clone()),
                    updated_at: manifest.created_at as i64 * 1000,
                });
            }
        }
        records.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(records)
    }

    /// The bytes of an indexed PDF, for a reader following a citation to `page` (1-based). Only
    /// what the current index holds is served (its manifest says so, whichever trigger
    /// ingested it): a failed or removed document is unknown here.
    pub async fn pdf(&self, name: &str, page: Option<u32>) -> Result<Vec<u8>, DocumentsError> {
        let key = document_key(&self.collection, name)?;
        let unknown = || DocumentsError::UnknownDocument(name.to_string());
        let entry = collection::current_manifest(self.objects.as_ref(), &self.collection)
            .await?
            .and_then(|m| m.documents.into_iter().find(|d| d.name == name))
            .ok_or_else(unknown)?;
        if let Some(page) = page
            && !(1..=entry.pages).contains(&page)
        {
            return Err(DocumentsError::PageOutOfRange {
                page,
                pages: entry.pages,
            });
        }
        match self.objects.get(&key).await {
            Ok(bytes) => Ok(bytes),
            Err(ObjectError::NotFound(_)) => Err(unknown()),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes a document's PDF from the bucket and its passages from the index (a new version,
    /// published as any change is). A name the collection does not hold (indexed, or recorded
    /// as failed) is refused.
    pub async fn remove(
        &self,
        states: &dyn Store,
        actor: &str,
        name: &str,
    ) -> Result<Synced, DocumentsError> {
        let key = document_key(&self.collection, name)?;
        let held = !self.known(states, vec![name.to_string()]).await?.is_empty();
        if !held {
            return Err(DocumentsError::UnknownDocument(name.to_string()));
        }
        match self.objects.delete(&key).await {
            Ok(()) | Err(ObjectError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
        self.sync(states, actor, &[key]).await
    }

    /// The published index versions, newest first.
    pub async fn versions(&self) -> Result<Vec<VersionInfo>, DocumentsError> {
        Ok(collection::versions(self.objects.as_ref(), &self.collection).await?)
    }

    /// Points the collection back at an earlier version (warm query processes follow within
    /// their refresh interval), and records who did it.
    pub async fn rollback(
        &self,
        states: &dyn Store,
        actor: &str,
        version: &str,
    ) -> Result<(), DocumentsError> {
        let _busy = self.busy.lock().await;
        collection::rollback(self.objects.as_ref(), &self.collection, version).await?;
        audit::record(states, actor, "index.rollback", version, None).await;
        Ok(())
    }
}
