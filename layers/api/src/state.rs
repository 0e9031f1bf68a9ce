//! What handlers share, built once per process (per Lambda cold start) and kept warm.

use std::sync::Arc;

use rag_core::accounts::Tokens;
use rag_core::live::LiveIndex;
use rag_core::store::Store;

/// Shared state of the routes; each function fills only what its routes use.
#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn Store>,
    pub tokens: Arc<Tokens>,
    /// The models and the live index; `None` in functions that do not answer questions.
    pub engine: Option<Arc<LiveIndex>>,
}

impl App {
    /// The loaded index version, if this process answers questions.
    pub fn index_version(&self) -> Option<String> {
        self.engine.as_ref().and_then(|e| e.version())
    }
}
