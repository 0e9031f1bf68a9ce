//! The question path: validate, embed, search, answer.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::answer::{self, DEFAULT_MIN_SIMILARITY, excerpt};
use crate::embed::{EmbedError, Embedder};
use crate::index::{Hit, Index, Retrieval};
use crate::text::{Lang, detect_lang};

/// Longest question accepted, in characters.
pub const MAX_QUESTION_CHARS: usize = 1000;
/// Most sources a question may ask for.
pub const MAX_TOP_K: usize = 20;
pub const DEFAULT_TOP_K: usize = 5;
const EXCERPT_CHARS: usize = 300;

/// Why a question was not answered.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("the question is empty")]
    EmptyQuestion,
    #[error("the question is longer than {max} characters")]
    QuestionTooLong { max: usize },
    #[error("top_k must be between 1 and {max}")]
    InvalidTopK { max: usize },
    #[error(
        "the index was built with model {index}, not {embedder}: ingest again or select that model"
    )]
    ModelMismatch { index: String, embedder: String },
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
}

/// An answered question.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Answer {
    pub answer: String,
    pub sources: Vec<Source>,
    pub latency_ms: f64,
    /// False when the answer is "not in the documentation".
    pub grounded: bool,
    pub lang: Lang,
    pub timings: Timings,
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

/// Checks a question and returns it trimmed.
pub fn validate(question: &str, top_k: usize) -> Result<&str, QueryError> {
    let q = question.trim();
    if q.is_empty() {
        return Err(QueryError::EmptyQuestion);
    }
    if q.chars().count() > MAX_QUESTION_CHARS {
        return Err(QueryError::QuestionTooLong {
            max: MAX_QUESTION_CHARS,
        });
    }
    if top_k == 0 || top_k > MAX_TOP_K {
        return Err(QueryError::InvalidTopK { max: MAX_TOP_K });
    }
    Ok(q)
}

/// Retrieval only: the best pages for a question.
pub fn search(
    index: &Index,
    embedder: &dyn Embedder,
    question: &str,
    options: &QueryOptions,
) -> Result<(Vec<Hit>, Vec<f32>, Timings), QueryError> {
    let q = validate(question, options.top_k)?;
    if index.manifest.model != embedder.model_id() {
        return Err(QueryError::ModelMismatch {
            index: index.manifest.model.clone(),
            embedder: embedder.model_id().to_string(),
        });
    }
    let t = Instant::now();
    let query = embedder.embed_query(q)?;
    let embed_ms = ms(t);
    let t = Instant::now();
    let hits = index.search(&query, q, options.top_k, options.retrieval);
    let timings = Timings {
        embed_ms,
        search_ms: ms(t),
        answer_ms: 0.0,
    };
    Ok((hits, query, timings))
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
    embedder: &dyn Embedder,
    question: &str,
    options: &QueryOptions,
) -> Result<Answer, QueryError> {
    let started = Instant::now();
    let (hits, query, mut timings) = search(index, embedder, question, options)?;
    let t = Instant::now();
    let q = question.trim();
    let extracted = answer::answer(
        q,
        &query,
        &hits,
        &index.chunks,
        embedder,
        options.min_similarity,
    )?;
    timings.answer_ms = ms(t);
    Ok(Answer {
        answer: extracted.text,
        sources: if extracted.grounded {
            sources(index, &hits)
        } else {
            Vec::new()
        },
        latency_ms: ms(started),
        grounded: extracted.grounded,
        lang: detect_lang(q),
        timings,
    })
}
