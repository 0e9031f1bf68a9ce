//! Object storage for PDFs and index versions: the `ObjectStore` trait and its adapters.
//!
//! Keys use the bucket layout everywhere: `docs/<name>.pdf`, `indexes/<collection>/<version>/…`,
//! `indexes/<collection>/CURRENT`.

mod dir;

pub use dir::DirStore;

/// Why an object operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error("object not found: {0}")]
    NotFound(String),
    #[error("invalid object key {0:?}")]
    InvalidKey(String),
    #[error("object store unavailable: {0}")]
    Unavailable(String),
}

/// A flat key → bytes store.
#[async_trait::async_trait]
pub trait ObjectStore: Send + Sync {
    async fn get(&self, key: &str) -> Result<Vec<u8>, ObjectError>;
    /// Writes the whole object; readers never see a partial object.
    async fn put(&self, key: &str, bytes: &[u8]) -> Result<(), ObjectError>;
    /// Keys under a prefix, sorted.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, ObjectError>;
    async fn delete(&self, key: &str) -> Result<(), ObjectError>;
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
