//! What handlers share, built once per process (per Lambda cold start) and kept warm.

use std::sync::Arc;
use std::time::Duration;

use rag_core::accounts::Tokens;
use rag_core::assistant::Services;
use rag_core::cluster::runs::Assigner;
#[cfg(feature = "ingest")]
use rag_core::documents::Documents;
use rag_core::generate::Generator;
use rag_core::live::LiveIndex;
use rag_core::store::Store;
use rag_core::track::Tracker;

/// Shared state of the routes; each function fills only what its routes use.
#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn Store>,
    pub tokens: Arc<Tokens>,
    /// The models and the live index; `None` in functions that do not answer questions.
    pub engine: Option<Arc<LiveIndex>>,
    /// The collection's documents; `None` in functions that do not ingest.
    #[cfg(feature = "ingest")]
    pub ingest: Option<Arc<Ingest>>,
    /// The LLM that rewrites grounded answers; `None`: the extractive answer (LLM_PROVIDER).
    pub generator: Option<Arc<dyn Generator>>,
    /// MLflow tracking; `None`: off (MLFLOW_TRACKING_URI unset).
    pub tracker: Option<Tracker>,
    /// The latest clustering's centroids, for each new question's cluster.
    pub assigner: Arc<Assigner>,
    /// What the edge tier in front relies on: its secret and its rate counters.
    pub edge: Arc<Edge>,
}

/// The origin's side of the edge tier (`EDGE_SECRET`): the edge proves itself with the secret
/// to have its rate counted here and the caller's address it forwards believed.
#[derive(Debug, Default)]
pub struct Edge {
    /// `None`: no edge in front; the counters and forwarded addresses are refused.
    pub secret: Option<String>,
    pub counters: rag_core::rate::Counters,
}

impl Edge {
    pub fn new(secret: Option<String>) -> Edge {
        Edge {
            secret,
            counters: Default::default(),
        }
    }

    /// Whether `given` is the edge's secret (compared in constant time).
    pub fn is_edge(&self, given: Option<&str>) -> bool {
        use subtle::ConstantTimeEq;
        match (&self.secret, given) {
            (Some(secret), Some(given)) => bool::from(secret.as_bytes().ct_eq(given.as_bytes())),
            _ => false,
        }
    }
}

/// What the ingest routes need besides the documents: which bucket's events to follow and the
/// webhook's shared secret.
#[cfg(feature = "ingest")]
pub struct Ingest {
    pub documents: Arc<Documents>,
    /// Events naming another bucket are ignored (`None`: the local directory store).
    pub bucket: Option<String>,
    /// The webhook's shared secret; `None`: the webhook is off.
    pub webhook_token: Option<String>,
}

/// Longest wait at shutdown for the bucket events already acknowledged (an ingestion in
/// progress) and then for queued MLflow runs. Kubernetes' grace period must exceed it.
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(90);

impl App {
    /// Finishes the work that outlives the requests which started it, before the process
    /// exits: the webhook's background ingestion, then the tracker's queue.
    pub async fn settle(&self) {
        let deadline = tokio::time::Instant::now() + SETTLE_TIMEOUT;
        #[cfg(feature = "ingest")]
        if let Some(ingest) = &self.ingest {
            let settled = tokio::time::timeout_at(deadline, ingest.documents.settled()).await;
            if settled.is_err() {
                tracing::warn!("bucket events still being applied at shutdown");
            }
        }
        if let Some(tracker) = &self.tracker {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if !tracker.flush(left.max(Duration::from_secs(1))).await {
                tracing::warn!(stats = ?tracker.stats(), "MLflow runs still pending at shutdown");
            }
        }
    }

    /// What the question path uses besides the index.
    pub fn services(&self) -> Services<'_> {
        Services {
            generator: self.generator.as_deref(),
            store: self.store.as_ref(),
            tracker: self.tracker.as_ref(),
            assigner: &self.assigner,
        }
    }

    /// The loaded index version, if this process answers questions.
    pub fn index_version(&self) -> Option<String> {
        self.engine.as_ref().and_then(|e| e.version())
    }
}
