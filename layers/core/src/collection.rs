//! Index versions of a collection in an object store: publish a new version, then move the
//! `CURRENT` pointer with a conditional write; load whatever `CURRENT` names; list, roll back
//! and prune versions.

use serde::Serialize;

use crate::index::{Index, IndexError, Manifest};
use crate::objects::{ObjectError, ObjectStore, Tag};

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
    #[error("another publisher moved CURRENT of collection {0} meanwhile")]
    Conflict(String),
    #[error("collection {collection} has no version {version}")]
    UnknownVersion { collection: String, version: String },
}

/// Versions kept per collection (besides the current one) when a new one is published.
pub const KEEP_VERSIONS: usize = 5;

/// The current index and the tag `CURRENT` had when it was read: the base a writer must
/// publish against.
pub struct Base {
    pub index: Option<Index>,
    pub tag: Option<Tag>,
}

/// One published version, for listings.
#[derive(Debug, Clone, Serialize)]
pub struct VersionInfo {
    pub version: String,
    pub created_at: u64,
    pub documents: usize,
    pub chunks: u32,
    pub current: bool,
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

/// Where a version's manifest is stored.
pub fn manifest_key(collection: &str, version: &str) -> String {
    version_key(collection, version, MANIFEST_FILE)
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

/// The manifest of the version `CURRENT` points to (what the index holds, without loading it).
pub async fn current_manifest(
    store: &dyn ObjectStore,
    collection: &str,
) -> Result<Option<Manifest>, CollectionError> {
    let Some(version) = current_version(store, collection).await? else {
        return Ok(None);
    };
    let bytes = store.get(&manifest_key(collection, &version)).await?;
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| CollectionError::Index {
            version,
            source: IndexError::Corrupt(format!("manifest: {e}")),
        })
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

/// The current index with the tag of `CURRENT`, for a writer.
pub async fn load_base(store: &dyn ObjectStore, collection: &str) -> Result<Base, CollectionError> {
    check_name(collection)?;
    match store.get_tagged(&current_key(collection)).await? {
        Some((bytes, tag)) => {
            let version = String::from_utf8_lossy(&bytes).trim().to_string();
            Ok(Base {
                index: Some(load_version(store, collection, &version).await?),
                tag: Some(tag),
            })
        }
        None => Ok(Base {
            index: None,
            tag: None,
        }),
    }
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

/// Publishes an index built on `base`: uploads the version's files, reads them back to verify,
/// then moves `CURRENT` only if it still has the tag the writer read, so readers see either the
/// old or the new complete version and of two concurrent writers one gets `Conflict`. Older
/// versions beyond [`KEEP_VERSIONS`] are then deleted.
pub async fn publish(
    store: &dyn ObjectStore,
    index: &Index,
    base: Option<&Tag>,
) -> Result<String, CollectionError> {
    let collection = &index.manifest.collection;
    check_name(collection)?;
    let version = index.version();
    let bytes = index.to_bytes().map_err(|source| CollectionError::Index {
        version: version.clone(),
        source,
    })?;
    let key = version_key(collection, &version, INDEX_FILE);
    store.put(&key, &bytes).await?;
    if store.get(&key).await? != bytes {
        return Err(CollectionError::Verify(version));
    }
    // The manifest last: a version is listed only once its index is complete.
    let manifest = serde_json::to_vec_pretty(&index.manifest).unwrap_or_default();
    store
        .put(&version_key(collection, &version, MANIFEST_FILE), &manifest)
        .await?;
    move_current(store, collection, &version, base).await?;
    prune(store, collection, KEEP_VERSIONS).await?;
    Ok(version)
}

async fn move_current(
    store: &dyn ObjectStore,
    collection: &str,
    version: &str,
    base: Option<&Tag>,
) -> Result<(), CollectionError> {
    match store
        .put_if(&current_key(collection), version.as_bytes(), base)
        .await
    {
        Ok(()) => Ok(()),
        Err(ObjectError::PreconditionFailed(_)) => {
            Err(CollectionError::Conflict(collection.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Published versions, newest first.
pub async fn versions(
    store: &dyn ObjectStore,
    collection: &str,
) -> Result<Vec<VersionInfo>, CollectionError> {
    check_name(collection)?;
    let current = current_version(store, collection).await?;
    let prefix = format!("indexes/{collection}/");
    let mut out = Vec::new();
    for key in store.list(&prefix).await? {
        let Some(version) = key
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(&format!("/{MANIFEST_FILE}")))
        else {
            continue;
        };
        let Ok(manifest) = serde_json::from_slice::<Manifest>(&store.get(&key).await?) else {
            continue;
        };
        out.push(VersionInfo {
            version: version.to_string(),
            created_at: manifest.created_at,
            documents: manifest.documents.len(),
            chunks: manifest.documents.iter().map(|d| d.chunks).sum(),
            current: current.as_deref() == Some(version),
        });
    }
    out.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then(b.current.cmp(&a.current))
    });
    Ok(out)
}

/// Points `CURRENT` back at an earlier version, after checking that it loads.
pub async fn rollback(
    store: &dyn ObjectStore,
    collection: &str,
    version: &str,
) -> Result<(), CollectionError> {
    let known = versions(store, collection).await?;
    if !known.iter().any(|v| v.version == version) {
        return Err(CollectionError::UnknownVersion {
            collection: collection.to_string(),
            version: version.to_string(),
        });
    }
    load_version(store, collection, version).await?;
    let tag = store
        .get_tagged(&current_key(collection))
        .await?
        .map(|(_, t)| t);
    move_current(store, collection, version, tag.as_ref()).await
}

/// Deletes versions older than the `keep` newest, never the current one.
async fn prune(
    store: &dyn ObjectStore,
    collection: &str,
    keep: usize,
) -> Result<(), CollectionError> {
    for old in versions(store, collection)
        .await?
        .into_iter()
        .filter(|v| !v.current)
        .skip(keep)
    {
        // Manifest first: an interrupted prune leaves an unlisted file, not a listed broken version.
        for file in [MANIFEST_FILE, INDEX_FILE] {
            store
                .delete(&version_key(collection, &old.version, file))
                .await?;
        }
    }
    Ok(())
}
