//! Object storage for PDFs and index versions: the `ObjectStore` trait and its adapters.
//!
//! Keys use the bucket layout everywhere: `docs/<name>.pdf`, `indexes/<collection>/<version>/…`,
//! `indexes/<collection>/CURRENT`.

mod dir;
mod s3;

pub use dir::DirStore;
pub use s3::S3Store;

/// Why an object operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error("object not found: {0}")]
    NotFound(String),
    #[error("invalid object key {0:?}")]
    InvalidKey(String),
    #[error("object {0} changed since it was read (another writer won)")]
    PreconditionFailed(String),
    #[error("object store unavailable: {0}")]
    Unavailable(String),
}

/// An object's version tag (an S3 ETag, or a content hash), for conditional writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag(pub String);

/// A flat key → bytes store.
#[async_trait::async_trait]
pub trait ObjectStore: Send + Sync {
    async fn get(&self, key: &str) -> Result<Vec<u8>, ObjectError>;
    /// Writes the whole object; readers never see a partial object.
    async fn put(&self, key: &str, bytes: &[u8]) -> Result<(), ObjectError>;
    /// Keys under a prefix, sorted.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, ObjectError>;
    async fn delete(&self, key: &str) -> Result<(), ObjectError>;
    /// The object and its tag, or `None` when it does not exist.
    async fn get_tagged(&self, key: &str) -> Result<Option<(Vec<u8>, Tag)>, ObjectError>;
    /// Writes only if the object still has tag `expected` (`None`: only if it does not exist),
    /// so that of two writers that read the same state, one fails with `PreconditionFailed`.
    async fn put_if(
        &self,
        key: &str,
        bytes: &[u8],
        expected: Option<&Tag>,
    ) -> Result<(), ObjectError>;
    /// Creates the bucket (or directory) when missing, for local stacks; deployed buckets
    /// are made by the deployment.
    async fn create_if_missing(&self) -> Result<(), ObjectError> {
        Ok(())
    }
}

/// The configured store: the bucket named by `S3_BUCKET` (endpoint and credentials from the
/// standard AWS chain), else the local directory `data_dir`.
pub async fn from_env(data_dir: &std::path::Path) -> std::sync::Arc<dyn ObjectStore> {
    match std::env::var("S3_BUCKET")
        .ok()
        .filter(|b| !b.trim().is_empty())
    {
        Some(bucket) => std::sync::Arc::new(S3Store::from_env(bucket.trim()).await),
        None => std::sync::Arc::new(DirStore::new(data_dir)),
    }
}

/// Refuses keys that could escape a directory or are not in the bucket layout.
pub(crate) fn check_key(key: &str) -> Result<(), ObjectError> {
    let bad = key.is_empty()
        || key.starts_with('/')
        || key.contains('\\')
        || key.contains('\0')
        || key
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..");
    if bad {
        Err(ObjectError::InvalidKey(key.to_string()))
    } else {
        Ok(())
    }
}

/// What every store must do with conditional writes, checked by each adapter's tests.
#[cfg(test)]
pub(crate) async fn check_conditional_writes(store: &dyn ObjectStore, key: &str) {
    store.put_if(key, b"v1", None).await.expect("create");
    assert!(matches!(
        store.put_if(key, b"v1b", None).await,
        Err(ObjectError::PreconditionFailed(_))
    ));
    let (_, tag) = store.get_tagged(key).await.expect("get").expect("exists");
    store
        .put_if(key, b"v2", Some(&tag))
        .await
        .expect("first writer");
    assert!(matches!(
        store.put_if(key, b"v3", Some(&tag)).await,
        Err(ObjectError::PreconditionFailed(_))
    ));
    assert_eq!(store.get(key).await.expect("get"), b"v2");
}
