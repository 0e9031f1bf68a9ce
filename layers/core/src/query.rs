//! The question path: validate, embed, search, answer.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::answer::{self, DEFAULT_MIN_SIMILARITY, excerpt};
use crate::embed::{EmbedError, Models};
use crate::index::{Hit, Index, Retrieval};
use crate::text::{Lang, detect_lang};

use rag_contract::RequestError;
pub use rag_contract::limits::{DEFAULT_TOP_K, MAX_QUESTION_CHARS, MAX_TOP_K};
pub use rag_contract::request::validate_question as validate;
const EXCERPT_CHARS: usize = 300;

/// Why a question was not answered.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The question or `top_k` is out of the shared limits.
    #[error(transparent)]
    Invalid(#[from] RequestError),
    #[error(
        "the index was built with models {index:?}, not {loaded:?}: ingest again or select those models"
    )]
    ModelMismatch {
        index: Vec<String>,
        loaded: Vec<String>,
    },
    #[error(transparent)]
    Embed(#[from] EmbedError),
}

/// A cited page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// Document file name.
    pub document: String,
    /// Physical page, 1-based.
    pub page: u32,
    /// Cosine similarity between question and passage.
    pub score: f32,
    pub excerpt: String,
}

/// Time spent in each step, in milliseconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Timings {
    pub embed_ms: f64,
    pub search_ms: f64,
    pub answer_ms: f64,
    /// Time waiting for the LLM (0 with the extractive answer).
    #[serde(default)]
    pub generate_ms: f64,
}

/// An answered question.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Answer {
    pub answer: String,
    pub sources: Vec<Source>,
    pub latency_ms: f64,
    /// False when the answer is "not in the documentation".
    pub grounded: bool,
    /// Best similarity between the question and a passage (also when not grounded).
    pub best_score: f32,
    pub lang: Lang,
    pub timings: Timings,
    /// What wrote the answer: "extractive", "gemini", "openai", or "extractive-fallback" when
    /// the LLM failed.
    pub generator: String,
    /// The LLM's model, when one answered.
    pub model: Option<String>,
    /// Citations by the LLM to passages it was not given, removed from the answer.
    pub dropped_citations: usize,
    /// The full text of the cited passages, for a generator (same order as `sources`).
    #[serde(skip)]
    pub passages: Vec<crate::generate::Passage>,
    /// What the LLM was sent, when one was called (for tracking).
    #[serde(skip)]
    pub prompt: Option<crate::generate::Prompt>,
    /// The question's [`question_vector`], kept for clustering.
    #[serde(skip)]
    pub embedding: Vec<f32>,
}

/// One unit vector for a question from its embedding by each model (each unit length): their
/// concatenation scaled by 1/√models. With e5 alone the 414 real questions cluster by language
/// first (all French ones together); adding the language-neutral USE-m3 groups them by topic
/// across languages ("formation" with "training").
pub fn question_vector(queries: &[Vec<f32>]) -> Vec<f32> {
    let scale = 1.0 / (queries.len().max(1) as f32).sqrt();
    queries.iter().flatten().map(|x| x * scale).collect()
}

/// Settings of the question path.
#[derive(Debug, Clone, Copy)]
pub struct QueryOptions {
    pub top_k: usize,
    pub retrieval: Retrieval,
    /// Best-passage similarity below which the answer is "not in the documentation".
    pub min_similarity: f32,
}

impl Default for QueryOptions {
    fn default() -> Self {
        QueryOptions {
            top_k: DEFAULT_TOP_K,
            retrieval: Retrieval::default(),
            min_similarity: DEFAULT_MIN_SIMILARITY,
        }
    }
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// Retrieval only: the best pages for a question.
/// The question embedded by each model of the index, with the hits.
pub struct Retrieved {
    pub hits: Vec<Hit>,
    pub queries: Vec<Vec<f32>>,
    pub timings: Timings,
}

pub fn search(
    index: &Index,
    models: &Models,
    question: &str,
    options: &QueryOptions,
) -> Result<Retrieved, QueryError> {
    let q = validate(question, options.top_k)?;
    if index.manifest.models != models.ids() {
        return Err(QueryError::ModelMismatch {
            index: index.manifest.models.clone(),
            loaded: models.ids(),
        });
    }
    let t = Instant::now();
    let queries = models.embed_query(q)?;
    let embed_ms = ms(t);
    let t = Instant::now();
    let hits = index.search(&queries, q, options.top_k, options.retrieval);
    let timings = Timings {
        embed_ms,
        search_ms: ms(t),
        ..Timings::default()
    };
    Ok(Retrieved {
        hits,
        queries,
        timings,
    })
}

/// The sources list for hits.
pub fn sources(index: &Index, hits: &[Hit]) -> Vec<Source> {
    hits.iter()
        .map(|h| {
            let c = &index.chunks[h.chunk];
            Source {
                document: c.document.clone(),
                page: c.page,
                score: h.similarity,
                excerpt: excerpt(&c.text, EXCERPT_CHARS),
            }
        })
        .collect()
}

/// Answers a question from the index.
pub fn ask(
    index: &Index,
    models: &Models,
    question: &str,
    options: &QueryOptions,
) -> Result<Answer, QueryError> {
    let started = Instant::now();
    let Retrieved {
        hits,
        queries,
        mut timings,
    } = search(index, models, question, options)?;
    let t = Instant::now();
    let q = question.trim();
    let extracted = answer::answer(
        q,
        &queries[0],
        &hits,
        &index.chunks,
        models.primary(),
        options.min_similarity,
    )?;
    timings.answer_ms = ms(t);
    let passages = hits
        .iter()
        .map(|h| {
            let c = &index.chunks[h.chunk];
            crate::generate::Passage {
                document: c.document.clone(),
                page: c.page,
                text: c.text.clone(),
            }
        })
        .collect();
    Ok(Answer {
        answer: extracted.text,
        sources: if extracted.grounded {
            sources(index, &hits)
        } else {
            Vec::new()
        },
        latency_ms: ms(started),
        grounded: extracted.grounded,
        best_score: hits.iter().map(|h| h.similarity).fold(0.0, f32::max),
        lang: detect_lang(q),
        timings,
        generator: "extractive".into(),
        model: None,
        dropped_citations: 0,
        passages: if extracted.grounded {
            passages
        } else {
            Vec::new()
        },
        prompt: None,
        embedding: question_vector(&queries),
    })
}
