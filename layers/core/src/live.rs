//! The index a warm process answers from, swapped for a newer published version without a
//! restart: `CURRENT` is checked at most every `refresh_every`, a new version is loaded off the
//! request path and swapped in atomically; requests in flight finish on the version they
//! started with. A version that fails to load (corrupt, other models) is refused and the
//! current one kept.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::collection::{self, CollectionError};
use crate::embed::Models;
use crate::index::Index;
use crate::objects::ObjectStore;

/// Why the live index is not the latest published version.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshFailure {
    pub version: Option<String>,
    pub message: String,
}

/// The models and the current index of one collection.
pub struct LiveIndex {
    pub models: Arc<Models>,
    objects: Arc<dyn ObjectStore>,
    collection: String,
    refresh_every: Duration,
    current: RwLock<Option<Arc<Index>>>,
    last_check: Mutex<Option<Instant>>,
    refreshing: AtomicBool,
    last_failure: Mutex<Option<RefreshFailure>>,
}

impl LiveIndex {
    pub fn new(
        models: Arc<Models>,
        objects: Arc<dyn ObjectStore>,
        collection: &str,
        refresh_every: Duration,
    ) -> Self {
        LiveIndex {
            models,
            objects,
            collection: collection.to_string(),
            refresh_every,
            current: RwLock::new(None),
            last_check: Mutex::new(None),
            refreshing: AtomicBool::new(false),
            last_failure: Mutex::new(None),
        }
    }

    /// The index to answer from (a snapshot: it stays valid while a newer one is swapped in).
    pub fn current(&self) -> Option<Arc<Index>> {
        self.current.read().ok().and_then(|g| g.clone())
    }

    /// Version currently loaded.
    pub fn version(&self) -> Option<String> {
        self.current().map(|i| i.version())
    }

    /// The last refresh that did not succeed, if the latest check failed.
    pub fn last_failure(&self) -> Option<RefreshFailure> {
        self.last_failure.lock().ok().and_then(|g| g.clone())
    }

    fn record(&self, failure: Option<RefreshFailure>) {
        if let Some(f) = &failure {
            tracing::warn!(version = ?f.version, message = %f.message, "index refresh failed");
        }
        if let Ok(mut g) = self.last_failure.lock() {
            *g = failure;
        }
    }

    /// Whether the refresh interval has passed since the last check (and marks a check).
    fn due(&self) -> bool {
        let Ok(mut last) = self.last_check.lock() else {
            return false;
        };
        let due = last.is_none_or(|t| t.elapsed() >= self.refresh_every);
        if due {
            *last = Some(Instant::now());
        }
        due
    }

    /// Checks `CURRENT` now and swaps in a newer version; returns the version loaded after it.
    pub async fn refresh(&self) -> Option<String> {
        if self.refreshing.swap(true, Ordering::AcqRel) {
            return self.version();
        }
        let result = self.refresh_inner().await;
        self.refreshing.store(false, Ordering::Release);
        self.record(result.err());
        self.version()
    }

    async fn refresh_inner(&self) -> Result<(), RefreshFailure> {
        let failure = |version: Option<&str>, e: &dyn std::fmt::Display| RefreshFailure {
            version: version.map(str::to_string),
            message: e.to_string(),
        };
        let published = collection::current_version(self.objects.as_ref(), &self.collection)
            .await
            .map_err(|e| failure(None, &e))?;
        let Some(published) = published else {
            return Ok(());
        };
        if self.version().as_deref() == Some(published.as_str()) {
            return Ok(());
        }
        let index = collection::load_version(self.objects.as_ref(), &self.collection, &published)
            .await
            .map_err(|e: CollectionError| failure(Some(&published), &e))?;
        if index.manifest.models != self.models.ids() {
            return Err(failure(
                Some(&published),
                &format!(
                    "built with models {:?}, this process runs {:?}",
                    index.manifest.models,
                    self.models.ids()
                ),
            ));
        }
        if let Ok(mut g) = self.current.write() {
            *g = Some(Arc::new(index));
        }
        tracing::info!(version = %published, "index swapped in");
        Ok(())
    }

    /// Checks for a new version every refresh interval in the background, so that an idle
    /// process is current before its next request. Stops when the index is dropped. (In
    /// Lambda the task is frozen between invocations; requests still check when due.)
    pub fn spawn_refresher(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        let every = self.refresh_every;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(live) = weak.upgrade() else { return };
                if live.due() {
                    live.refresh().await;
                }
            }
        });
    }

    /// Starts a background refresh when the interval has passed; never waits for it, except
    /// when no index is loaded yet (a cold start answers from S3 or not at all).
    pub async fn refresh_if_due(self: &Arc<Self>) {
        if self.current().is_none() {
            if self.due() || self.last_failure().is_none() {
                self.refresh().await;
            }
            return;
        }
        if self.due() {
            let me = self.clone();
            tokio::spawn(async move {
                me.refresh().await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::ChunkParams;
    use crate::embed::letters::models;
    use crate::ingest::{self, Document};
    use crate::objects::DirStore;

    fn sample() -> Vec<u8> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../data/pdf/procedures-support-it.pdf"
        );
        std::fs::read(path).expect("sample PDF")
    }

    async fn publish(store: &DirStore, previous: Option<&Index>, name: &str) -> Index {
        let doc = Document {
            name: name.into(),
            bytes: sample(),
            password: None,
        };
        let (index, _) = ingest::ingest(
            previous,
            "default",
            &models(),
            vec![doc],
            ChunkParams::default(),
            &mut |_| {},
        )
        .expect("ingest");
        let base = collection::load_base(store, "default").await.expect("base");
        collection::publish(store, &index, base.tag.as_ref())
            .await
            .expect("publish");
        index
    }

    #[tokio::test]
    async fn swaps_new_versions_in_and_refuses_broken_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = DirStore::new(dir.path());
        let objects: Arc<dyn ObjectStore> = Arc::new(store.clone());
        let live = LiveIndex::new(
            Arc::new(models()),
            objects,
            "default",
            Duration::from_secs(3600),
        );
        assert_eq!(live.refresh().await, None, "nothing published yet");

        let v1 = publish(&store, None, "a.pdf").await;
        assert_eq!(live.refresh().await, Some(v1.version()));
        let in_flight = live.current().expect("loaded");

        let v2 = publish(&store, Some(&v1), "b.pdf").await;
        assert_ne!(v1.version(), v2.version());
        assert_eq!(live.refresh().await, Some(v2.version()));
        // A request that started on v1 still holds a complete v1.
        assert_eq!(in_flight.version(), v1.version());
        assert_eq!(in_flight.manifest.documents.len(), 1);

        // CURRENT pointing at a corrupt file: refused, v2 kept, failure reported.
        let bad = dir.path().join("indexes/default/badbad");
        std::fs::create_dir_all(&bad).expect("mkdir");
        std::fs::write(bad.join("index.rag"), b"RAGINDEX garbage").expect("write");
        std::fs::write(dir.path().join("indexes/default/CURRENT"), b"badbad").expect("write");
        assert_eq!(live.refresh().await, Some(v2.version()));
        let failure = live.last_failure().expect("reported");
        assert_eq!(failure.version.as_deref(), Some("badbad"));
        assert!(
            failure.message.contains("index file"),
            "{}",
            failure.message
        );

        // Back to a good version: the failure clears.
        std::fs::write(dir.path().join("indexes/default/CURRENT"), v1.version()).expect("write");
        assert_eq!(live.refresh().await, Some(v1.version()));
        assert_eq!(live.last_failure(), None);
    }
}
