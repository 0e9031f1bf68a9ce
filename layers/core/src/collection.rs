//! Index versions of a collection in an object store: publish a new version, then move the
//! `CURRENT` pointer; load whatever `CURRENT` names.

use crate::index::{Index, IndexError};
use crate::objects::{ObjectError, ObjectStore};

/// The collection used when none is named.
pub const DEFAULT_COLLECTION: &str = "default";
const INDEX_FILE: &str = "index.rag";
const MANIFEST_FILE: &str = "manifest.json";

/// Why a collection could not be read or published.
#[derive(Debug, thiserror::Error)]
pub enum CollectionError {
    #[error("invalid collection name {0:?} (letters, digits, '-' and '_' only)")]
    InvalidName(String),
    #[error(transparent)]
    Store(#[from] ObjectError),
    #[error("index version {version}: {source}")]
    Index {
        version: String,
        #[source]
        source: IndexError,
    },
    #[error("published index version {0} did not read back identically")]
    Verify(String),
}

fn check_name(collection: &str) -> Result<(), CollectionError> {
    let ok = !collection.is_empty()
        && collection.len() <= 64
        && collection
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(CollectionError::InvalidName(collection.to_string()))
    }
}

fn current_key(collection: &str) -> String {
    format!("indexes/{collection}/CURRENT")
}

fn version_key(collection: &str, version: &str, file: &str) -> String {
    format!("indexes/{collection}/{version}/{file}")
}

/// The version `CURRENT` points to, if the collection has been published.
pub async fn current_version(
    store: &dyn ObjectStore,
    collection: &str,
) -> Result<Option<String>, CollectionError> {
    check_name(collection)?;
    match store.get(&current_key(collection)).await {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).trim().to_string())),
        Err(ObjectError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Loads one version of a collection's index.
pub async fn load_version(
    store: &dyn ObjectStore,
    collection: &str,
    version: &str,
) -> Result<Index, CollectionError> {
    check_name(collection)?;
    let bytes = store
        .get(&version_key(collection, version, INDEX_FILE))
        .await?;
    Index::from_bytes(&bytes).map_err(|source| CollectionError::Index {
        version: version.to_string(),
        source,
    })
}

/// Loads the current index, or `None` for a collection never published.
pub async fn load_current(
    store: &dyn ObjectStore,
    collection: &str,
) -> Result<Option<Index>, CollectionError> {
    match current_version(store, collection).await? {
        Some(version) => load_version(store, collection, &version).await.map(Some),
        None => Ok(None),
    }
}

/// Publishes an index: uploads the version's files, reads them back to verify, and only then
/// moves `CURRENT`, so readers see either the old or the new complete version.
pub async fn publish(store: &dyn ObjectStore, index: &Index) -> Result<String, CollectionError> {
    let collection = &index.manifest.collection;
    check_name(collection)?;
    let version = index.version();
    let bytes = index.to_bytes().map_err(|source| CollectionError::Index {
        version: version.clone(),
        source,
    })?;
    let manifest = serde_json::to_vec_pretty(&index.manifest).unwrap_or_default();
    store
        .put(&version_key(collection, &version, MANIFEST_FILE), &manifest)
        .await?;
    let key = version_key(collection, &version, INDEX_FILE);
    store.put(&key, &bytes).await?;
    if store.get(&key).await? != bytes {
        return Err(CollectionError::Verify(version));
    }
    store
        .put(&current_key(collection), version.as_bytes())
        .await?;
    Ok(version)
}
