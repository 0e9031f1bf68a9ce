//! What every command needs: where data and models live, and how to load them.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use rag_core::collection;
use rag_core::embed::{Models, Precision, load_models};
use rag_core::index::Index;
use rag_core::objects::{self, ObjectStore};

/// Embedding model selection (global flags).
#[derive(clap::Args, Debug, Clone)]
pub struct ModelOptions {
    /// Folder written by layers/model/build.sh.
    #[arg(long, global = true, env = "RAG_MODEL_DIR", default_value = "models")]
    pub model_dir: PathBuf,
    /// Embedding models (folders of the model directory), comma-separated, primary first:
    /// each ranks passages and the rankings are fused.
    #[arg(
        long,
        global = true,
        env = "RAG_MODEL",
        default_value = "multilingual-e5-small,use-m3",
        value_delimiter = ','
    )]
    pub model: Vec<String>,
    /// Weights to load: int8 (quantised at setup, faster) or fp32.
    #[arg(long, global = true, env = "RAG_MODEL_PRECISION", default_value = "int8", value_parser = ["int8", "fp32"])]
    pub precision: String,
    /// ONNX Runtime threads (default: all cores).
    #[arg(long, global = true, env = "RAG_THREADS")]
    pub threads: Option<usize>,
}

pub struct Context {
    pub data_dir: PathBuf,
    pub model: ModelOptions,
    /// Indexes (and uploaded PDFs): `S3_BUCKET`, else the data directory.
    pub objects: Arc<dyn ObjectStore>,
}

impl Context {
    pub async fn new(data_dir: PathBuf, model: ModelOptions) -> Self {
        let objects = objects::from_env(&data_dir).await;
        Context {
            data_dir,
            model,
            objects,
        }
    }

    pub fn precision(&self) -> Precision {
        match self.model.precision.as_str() {
            "fp32" => Precision::Fp32,
            _ => Precision::Int8,
        }
    }

    pub fn threads(&self) -> usize {
        self.model
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    pub fn models(&self) -> anyhow::Result<Models> {
        Ok(load_models(
            &self.model.model_dir,
            &self.model.model,
            self.precision(),
            self.threads(),
        )?)
    }

    /// The current index of a collection; an error that says what to do when there is none.
    pub async fn index(&self, name: &str) -> anyhow::Result<Index> {
        match collection::load_current(self.objects.as_ref(), name)
            .await
            .with_context(|| {
                format!(
                    "loading collection {name:?} from {}",
                    self.data_dir.display()
                )
            })? {
            Some(index) => Ok(index),
            None => bail!(
                "collection {name:?} has no index in {}: run `rag ingest --collection {name} FILE.pdf...` first",
                self.data_dir.display()
            ),
        }
    }
}
