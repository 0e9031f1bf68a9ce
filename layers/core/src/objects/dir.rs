//! The embedded default object store: a local directory.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::{ObjectError, ObjectStore, Tag, check_key};

/// Objects as files under a root directory; writes go to a temporary file renamed into place.
#[derive(Debug, Clone)]
pub struct DirStore {
    root: PathBuf,
    /// Serialises conditional writes within the process.
    conditional: Arc<tokio::sync::Mutex<()>>,
}

fn tag_of(bytes: &[u8]) -> Tag {
    Tag(Sha256::digest(bytes)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

impl DirStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirStore {
            root: root.into(),
            conditional: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> Result<PathBuf, ObjectError> {
        check_key(key)?;
        Ok(self.root.join(key))
    }
}

/// A name of its own for each write in progress, beside its target (so the rename stays on one
/// file system) and short (so a long key cannot make it exceed the name limit). Keys that differ
/// only by their extension's case once shared one and the wrong bytes could win.
fn temporary_path(path: &Path) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    path.with_file_name(format!(".tmp-{}-{n}", std::process::id()))
}

fn io_err(key: &str, e: std::io::Error) -> ObjectError {
    match e.kind() {
        ErrorKind::NotFound => ObjectError::NotFound(key.to_string()),
        _ => ObjectError::Unavailable(format!("{key}: {e}")),
    }
}

#[async_trait::async_trait]
impl ObjectStore for DirStore {
    async fn get(&self, key: &str) -> Result<Vec<u8>, ObjectError> {
        tokio::fs::read(self.path(key)?)
            .await
            .map_err(|e| io_err(key, e))
    }

    async fn put(&self, key: &str, bytes: &[u8]) -> Result<(), ObjectError> {
        let path = self.path(key)?;
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| io_err(key, e))?;
        }
        let tmp = temporary_path(&path);
        tokio::fs::write(&tmp, bytes)
            .await
            .map_err(|e| io_err(key, e))?;
        tokio::fs::rename(&tmp, &path)
            .await
            .map_err(|e| io_err(key, e))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, ObjectError> {
        let root = self.root.clone();
        let prefix = prefix.to_string();
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            let mut stack = vec![root.clone()];
            while let Some(dir) = stack.pop() {
                let entries = match std::fs::read_dir(&dir) {
                    Ok(e) => e,
                    Err(e) if e.kind() == ErrorKind::NotFound => continue,
                    Err(e) => return Err(io_err(&prefix, e)),
                };
                for entry in entries.flatten() {
                    let path = entry.path();
                    if path.is_dir() {
                        stack.push(path);
                        continue;
                    }
                    let Ok(rel) = path.strip_prefix(&root) else {
                        continue;
                    };
                    let key = rel.to_string_lossy().replace('\\', "/");
                    let writing = entry.file_name().to_string_lossy().starts_with(".tmp-");
                    if key.starts_with(&prefix) && !writing {
                        out.push(key);
                    }
                }
            }
            out.sort();
            Ok(out)
        })
        .await
        .map_err(|e| ObjectError::Unavailable(e.to_string()))?
    }

    async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(key, e)),
        }
    }

    async fn get_tagged(&self, key: &str) -> Result<Option<(Vec<u8>, Tag)>, ObjectError> {
        match self.get(key).await {
            Ok(bytes) => {
                let tag = tag_of(&bytes);
                Ok(Some((bytes, tag)))
            }
            Err(ObjectError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn put_if(
        &self,
        key: &str,
        bytes: &[u8],
        expected: Option<&Tag>,
    ) -> Result<(), ObjectError> {
        let _guard = self.conditional.lock().await;
        let now = self.get_tagged(key).await?.map(|(_, t)| t);
        if now.as_ref() != expected {
            return Err(ObjectError::PreconditionFailed(key.to_string()));
        }
        self.put(key, bytes).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn put_get_list_delete() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = DirStore::new(dir.path());
        store
            .put("indexes/default/v1/index.rag", b"abc")
            .await
            .expect("put");
        store
            .put("indexes/default/CURRENT", b"v1")
            .await
            .expect("put");
        store.put("docs/a.pdf", b"%PDF").await.expect("put");
        assert_eq!(
            store.get("indexes/default/CURRENT").await.expect("get"),
            b"v1"
        );
        assert_eq!(
            store.list("indexes/").await.expect("list"),
            ["indexes/default/CURRENT", "indexes/default/v1/index.rag"]
        );
        store.delete("docs/a.pdf").await.expect("delete");
        store
            .delete("docs/a.pdf")
            .await
            .expect("delete twice is fine");
        assert!(matches!(
            store.get("docs/a.pdf").await,
            Err(ObjectError::NotFound(_))
        ));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_of_similar_keys_keep_their_own_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = DirStore::new(dir.path());
        for round in 0..20u8 {
            let (lower, upper) = (vec![round; 300_000], vec![round + 100; 300_000]);
            let (a, b) = tokio::join!(
                store.put("docs/race.pdf", &lower),
                store.put("docs/race.PDF", &upper)
            );
            a.and(b).expect("put");
            assert_eq!(store.get("docs/race.pdf").await.expect("get"), lower);
            assert_eq!(store.get("docs/race.PDF").await.expect("get"), upper);
        }
        assert_eq!(
            store.list("docs/").await.expect("list"),
            ["docs/race.PDF", "docs/race.pdf"],
            "no temporary file left or listed"
        );
    }

    #[tokio::test]
    async fn conditional_writes_detect_a_concurrent_writer() {
        let dir = tempfile::tempdir().expect("tempdir");
        crate::objects::check_conditional_writes(&DirStore::new(dir.path()), "CURRENT").await;
    }

    #[tokio::test]
    async fn keys_cannot_escape_the_root() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = DirStore::new(dir.path());
        for key in ["../etc/passwd", "/abs", "a//b", "a/./b", ""] {
            assert!(
                matches!(store.put(key, b"x").await, Err(ObjectError::InvalidKey(_))),
                "{key}"
            );
        }
    }
}
