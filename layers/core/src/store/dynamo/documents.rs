//! Document states in DynamoDB: one partition per collection, one item per file name.

use super::item::{self, Builder, Item};
use super::{DynamoStore, attrs, keys};
use crate::store::{DocumentRecord, DocumentStatus, DocumentStore, StoreError};

fn to_document(item: &Item) -> Result<DocumentRecord, StoreError> {
    Ok(DocumentRecord {
        collection: item::s(item, attrs::COLLECTION)?,
        name: item::s(item, attrs::NAME)?,
        status: DocumentStatus::parse(&item::s(item, attrs::STATUS)?)?,
        reason: item::opt_s(item, attrs::REASON)?,
        sha256: item::opt_s(item, attrs::SHA256)?,
        pages: item::n(item, attrs::PAGES)?,
        chunks: item::n(item, attrs::CHUNKS)?,
        index_version: item::opt_s(item, attrs::INDEX_VERSION)?,
        updated_at: item::n(item, attrs::UPDATED_AT)?,
    })
}

#[async_trait::async_trait]
impl DocumentStore for DynamoStore {
    async fn record_document(&self, d: DocumentRecord) -> Result<(), StoreError> {
        let item = Builder::key(keys::documents(&d.collection), &d.name)
            .s(attrs::COLLECTION, &d.collection)
            .s(attrs::NAME, &d.name)
            .s(attrs::STATUS, d.status.as_str())
            .opt_s(attrs::REASON, d.reason.as_deref())
            .opt_s(attrs::SHA256, d.sha256.as_deref())
            .n(attrs::PAGES, d.pages)
            .n(attrs::CHUNKS, d.chunks)
            .opt_s(attrs::INDEX_VERSION, d.index_version.as_deref())
            .n(attrs::UPDATED_AT, d.updated_at)
            .build();
        self.put(item).await
    }

    async fn documents(&self, collection: &str) -> Result<Vec<DocumentRecord>, StoreError> {
        self.collect(self.partition(&keys::documents(collection), None), None)
            .await?
            .iter()
            .map(to_document)
            .collect()
    }
}
