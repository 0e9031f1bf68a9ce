//! A deterministic stand-in for a model, for tests that exercise ingestion and publishing
//! without the ONNX models: letter counts, normalised.

use super::{EmbedError, Embedder, Models};

struct Letters;

impl Embedder for Letters {
    fn model_id(&self) -> &str {
        "letters"
    }
    fn dim(&self) -> usize {
        26
    }
    fn count_tokens(&self, text: &str) -> usize {
        text.split_whitespace().count()
    }
    fn embed_passages(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        Ok(texts
            .iter()
            .map(|t| {
                let mut v = [0.01f32; 26];
                for c in t.to_lowercase().chars().filter(char::is_ascii_lowercase) {
                    v[(c as u8 - b'a') as usize] += 1.0;
                }
                let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                v.iter().map(|x| x / n).collect()
            })
            .collect())
    }
    fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        Ok(self.embed_passages(&[text])?.remove(0))
    }
}

pub fn models() -> Models {
    Models::new(vec![Box::new(Letters)]).expect("one model")
}
