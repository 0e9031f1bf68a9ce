//! Sentence embeddings: the `Embedder` trait and its ONNX Runtime adapter.

#[cfg(test)]
pub(crate) mod letters;
#[cfg(feature = "onnx")]
mod onnx;

use std::path::PathBuf;

#[cfg(feature = "onnx")]
pub use onnx::OnnxEmbedder;

/// Why embeddings could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error(
        "model files not found in {dir}: {what} (run layers/model/build.sh, or set RAG_MODEL_DIR)"
    )]
    MissingModel { dir: PathBuf, what: String },
    #[error("invalid model configuration {path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error("ONNX Runtime: {0}")]
    Runtime(String),
    #[error("tokenizer: {0}")]
    Tokenizer(String),
}

/// Which weights of a model directory to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    Fp32,
    Int8,
}

impl Precision {
    /// The weights file of this precision in a model directory.
    pub fn file(self) -> &'static str {
        match self {
            Precision::Fp32 => "model.onnx",
            Precision::Int8 => "model.int8.onnx",
        }
    }
}

/// Turns text into unit-length vectors; cosine similarity is then a dot product.
pub trait Embedder: Send + Sync {
    /// Model identifier recorded in index manifests (an index only answers with its own model).
    fn model_id(&self) -> &str;
    fn dim(&self) -> usize;
    /// Tokens the model sees for `text` (without special tokens), for chunking.
    fn count_tokens(&self, text: &str) -> usize;
    /// Embeds document passages, in order.
    fn embed_passages(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError>;
    /// Embeds one question.
    fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError>;
    /// True when the model scores a translation pair as high as a same-language pair (trained
    /// for it, like USE-m3); otherwise scores are standardised per passage language.
    fn language_neutral(&self) -> bool {
        false
    }
}

/// Loads the named models of a model directory, primary first. Each loads on its own thread:
/// session creation is most of a cold start, and the models do not depend on each other.
#[cfg(feature = "onnx")]
pub fn load_models(
    dir: &std::path::Path,
    names: &[String],
    precision: Precision,
    threads: usize,
) -> Result<Models, EmbedError> {
    let list = std::thread::scope(|scope| {
        let loading: Vec<_> = names
            .iter()
            .map(|name| scope.spawn(move || OnnxEmbedder::load(dir, name, precision, threads)))
            .collect();
        loading
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .map_err(|_| EmbedError::Runtime("a model failed to load (panic)".into()))?
                    .map(|m| Box::new(m) as Box<dyn Embedder>)
            })
            .collect::<Result<Vec<_>, _>>()
    })?;
    Models::new(list).ok_or_else(|| EmbedError::MissingModel {
        dir: dir.to_path_buf(),
        what: "no model named".into(),
    })
}

/// Dot product of two vectors of equal length. Eight independent accumulators let the
/// compiler use SIMD (a single running sum cannot be reordered); the HNSW build spends most of
/// its time here.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// The embedding models of a collection, primary first. The primary model counts tokens for
/// chunking, gives the similarities that decide "not in the documentation" and picks answer
/// sentences; every model ranks passages, and the rankings are fused.
pub struct Models {
    list: Vec<Box<dyn Embedder>>,
}

impl Models {
    /// `None` when the list is empty.
    pub fn new(list: Vec<Box<dyn Embedder>>) -> Option<Models> {
        (!list.is_empty()).then_some(Models { list })
    }

    pub fn primary(&self) -> &dyn Embedder {
        self.list[0].as_ref()
    }

    pub fn iter(&self) -> impl Iterator<Item = &dyn Embedder> {
        self.list.iter().map(AsRef::as_ref)
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Per model, whether it is language-neutral (see [`Embedder::language_neutral`]).
    pub fn language_neutral(&self) -> Vec<bool> {
        self.iter().map(|m| m.language_neutral()).collect()
    }

    /// Model ids, as recorded in index manifests.
    pub fn ids(&self) -> Vec<String> {
        self.iter().map(|m| m.model_id().to_string()).collect()
    }

    /// The question embedded by every model, in order.
    pub fn embed_query(&self, text: &str) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.iter().map(|m| m.embed_query(text)).collect()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dot_matches_the_naive_sum() {
        let a: Vec<f32> = (0..389).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..389).map(|i| (i as f32 * 0.11).cos()).collect();
        let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((super::dot(&a, &b) - naive).abs() < 1e-3);
    }
}
