//! ONNX Runtime embedder (ort with a dynamically loaded libonnxruntime, tokenizers).
//!
//! Model directory layout, as `layers/model/build.sh` writes it:
//! `lib/libonnxruntime.so` and `<model>/{model.onnx, model.int8.onnx, tokenizer.json,
//! embed_config.json}`.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::Tensor;
use serde::Deserialize;
use tokenizers::Tokenizer;

use super::{EmbedError, Embedder, Precision};

/// Sequences per ONNX run; batches are formed from passages of similar length.
const BATCH: usize = 16;

#[derive(Debug, Deserialize)]
struct EmbedConfig {
    id: Option<String>,
    dim: usize,
    max_seq_len: usize,
    /// "mean": the model outputs token states [batch, seq, dim] to average over the mask;
    /// "none": it outputs sentence vectors [batch, dim].
    #[serde(default = "mean")]
    pooling: String,
    #[serde(default)]
    language_neutral: bool,
    #[serde(default)]
    query_prefix: String,
    #[serde(default)]
    passage_prefix: String,
}

fn mean() -> String {
    "mean".into()
}

/// A sentence-embedding model run by ONNX Runtime.
pub struct OnnxEmbedder {
    id: String,
    config: EmbedConfig,
    tokenizer: Tokenizer,
    /// `Session::run` needs `&mut`; queries are short, so one session behind a lock suffices.
    session: Mutex<Session>,
    has_token_types: bool,
}

fn ort_err(e: impl std::fmt::Display) -> EmbedError {
    EmbedError::Runtime(e.to_string())
}

/// Loads libonnxruntime once per process.
fn environment(lib: &Path) -> Result<ort::environment::Environment, EmbedError> {
    static ENV: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        ort::init_from(lib)
            .map_err(|e| e.to_string())?
            .with_name("rag")
            .build()
            .map_err(|e| e.to_string())
    })
    .clone()
    .map_err(EmbedError::Runtime)
}

fn normalized(v: &[f32]) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter().map(|x| x / norm).collect()
}

impl OnnxEmbedder {
    /// Loads `<models>/<model>` with the runtime from `<models>/lib`.
    pub fn load(
        models: &Path,
        model: &str,
        precision: Precision,
        threads: usize,
    ) -> Result<Self, EmbedError> {
        let dir = models.join(model);
        let lib = models.join("lib").join("libonnxruntime.so");
        // Models shipped quantised have a single `model.onnx`: that is their int8 form.
        let precision = if precision == Precision::Int8 && !dir.join(precision.file()).exists() {
            Precision::Fp32
        } else {
            precision
        };
        let weights = dir.join(precision.file());
        for (path, what) in [
            (&lib, "ONNX Runtime library"),
            (&weights, "model weights"),
            (&dir.join("tokenizer.json"), "tokenizer"),
        ] {
            if !path.exists() {
                return Err(EmbedError::MissingModel {
                    dir: models.to_path_buf(),
                    what: format!("{what} ({})", path.display()),
                });
            }
        }
        let config_path = dir.join("embed_config.json");
        let config: EmbedConfig = std::fs::read(&config_path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
            .map_err(|message| EmbedError::Config {
                path: config_path.clone(),
                message,
            })?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(tokenizers::TruncationParams {
                max_length: config.max_seq_len,
                ..Default::default()
            }))
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;

        let env = environment(&lib)?;
        let session = Session::builder(&env)
            .map_err(ort_err)?
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(ort_err)?
            .with_intra_threads(threads.max(1))
            .map_err(ort_err)?
            .commit_from_file(&weights)
            .map_err(ort_err)?;
        let has_token_types = session
            .inputs()
            .iter()
            .any(|i| i.name() == "token_type_ids");
        let base_id = config.id.clone().unwrap_or_else(|| model.to_string());
        let id = match precision {
            Precision::Fp32 => base_id,
            Precision::Int8 => format!("{base_id}@int8"),
        };
        Ok(OnnxEmbedder {
            id,
            config,
            tokenizer,
            session: Mutex::new(session),
            has_token_types,
        })
    }

    fn encode(&self, texts: &[String]) -> Result<Vec<Vec<u32>>, EmbedError> {
        texts
            .iter()
            .map(|t| {
                self.tokenizer
                    .encode(t.as_str(), true)
                    .map(|e| e.get_ids().to_vec())
                    .map_err(|e| EmbedError::Tokenizer(e.to_string()))
            })
            .collect()
    }

    /// Runs one padded batch and mean-pools the hidden states over the attention mask.
    fn run(&self, batch: &[&Vec<u32>]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let rows = batch.len();
        let cols = batch.iter().map(|ids| ids.len()).max().unwrap_or(0).max(1);
        let mut ids = vec![0i64; rows * cols];
        let mut mask = vec![0i64; rows * cols];
        let pad = self.tokenizer.token_to_id("<pad>").unwrap_or(0);
        for (r, seq) in batch.iter().enumerate() {
            for c in 0..cols {
                let i = r * cols + c;
                match seq.get(c) {
                    Some(&t) => {
                        ids[i] = i64::from(t);
                        mask[i] = 1;
                    }
                    None => ids[i] = i64::from(pad),
                }
            }
        }
        let shape = [rows as i64, cols as i64];
        let mut inputs = vec![
            (
                "input_ids",
                Tensor::from_array((shape, ids)).map_err(ort_err)?,
            ),
            (
                "attention_mask",
                Tensor::from_array((shape, mask.clone())).map_err(ort_err)?,
            ),
        ];
        if self.has_token_types {
            inputs.push((
                "token_type_ids",
                Tensor::from_array((shape, vec![0i64; rows * cols])).map_err(ort_err)?,
            ));
        }
        let mut session = self
            .session
            .lock()
            .map_err(|_| EmbedError::Runtime("embedding session poisoned".into()))?;
        let outputs = session.run(inputs).map_err(ort_err)?;
        let (out_shape, hidden) = outputs[0].try_extract_tensor::<f32>().map_err(ort_err)?;
        let dim = *out_shape.last().unwrap_or(&0) as usize;
        let pooled = self.config.pooling == "none";
        let expected = if pooled {
            rows * dim
        } else {
            rows * cols * dim
        };
        if dim != self.config.dim || hidden.len() != expected {
            return Err(EmbedError::Runtime(format!(
                "unexpected output shape {out_shape:?} for a {rows}x{cols} batch"
            )));
        }
        if pooled {
            return Ok(hidden.chunks(dim).map(normalized).collect());
        }
        let mut result = Vec::with_capacity(rows);
        for r in 0..rows {
            // Mean pooling then L2 normalisation: the mean's divisor cancels out.
            let mut v = vec![0f32; dim];
            for c in 0..cols {
                if mask[r * cols + c] == 0 {
                    continue;
                }
                let base = (r * cols + c) * dim;
                for (acc, x) in v.iter_mut().zip(&hidden[base..base + dim]) {
                    *acc += x;
                }
            }
            result.push(normalized(&v));
        }
        Ok(result)
    }

    fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbedError> {
        let encoded = self.encode(&texts)?;
        // Sorting by length keeps padding (wasted compute) small.
        let mut order: Vec<usize> = (0..encoded.len()).collect();
        order.sort_by_key(|&i| encoded[i].len());
        let mut out = vec![Vec::new(); encoded.len()];
        for group in order.chunks(BATCH) {
            let batch: Vec<&Vec<u32>> = group.iter().map(|&i| &encoded[i]).collect();
            for (&i, v) in group.iter().zip(self.run(&batch)?) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    /// The model directory's default location: `$RAG_MODEL_DIR`, else `./models`.
    pub fn default_dir() -> PathBuf {
        std::env::var_os("RAG_MODEL_DIR").map_or_else(|| PathBuf::from("models"), PathBuf::from)
    }
}

impl Embedder for OnnxEmbedder {
    fn model_id(&self) -> &str {
        &self.id
    }

    fn dim(&self) -> usize {
        self.config.dim
    }

    fn count_tokens(&self, text: &str) -> usize {
        self.tokenizer
            .encode(text, false)
            .map_or(text.split_whitespace().count(), |e| e.len())
    }

    fn embed_passages(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let prefix = &self.config.passage_prefix;
        self.embed(texts.iter().map(|t| format!("{prefix}{t}")).collect())
    }

    fn language_neutral(&self) -> bool {
        self.config.language_neutral
    }

    fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        let prefix = &self.config.query_prefix;
        self.embed(vec![format!("{prefix}{text}")])?
            .pop()
            .ok_or_else(|| EmbedError::Runtime("no output".into()))
    }
}
