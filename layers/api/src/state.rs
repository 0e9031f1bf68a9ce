//! What handlers share, built once per process (per Lambda cold start) and kept warm.

use std::sync::Arc;

use rag_core::accounts::Tokens;
use rag_core::embed::Models;
use rag_core::index::Index;
use rag_core::store::Store;

/// The question engine: the loaded index and the embedding models.
pub struct Engine {
    pub index: Index,
    pub models: Models,
}

/// Shared state of the routes; each function fills only what its routes use.
#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn Store>,
    pub tokens: Arc<Tokens>,
    /// `None` in functions that do not answer questions (login, history, health).
    pub engine: Option<Arc<Engine>>,
}

impl App {
    /// The loaded index version, if this process answers questions.
    pub fn index_version(&self) -> Option<String> {
        self.engine.as_ref().map(|e| e.index.version())
    }
}
