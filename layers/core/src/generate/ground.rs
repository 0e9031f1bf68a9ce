//! The LLM on the question path: it rewrites a grounded extractive answer from the same
//! passages, and the extractive answer is what remains when it fails or is not needed.

use std::time::Instant;

use super::prompt::{self, not_in_documentation};
use super::{Generator, OnDelta, citations};
use crate::query::Answer;

/// Replaces the extractive answer by the generator's. Not called (no paid call) when retrieval
/// found no evidence; "not in the documentation" also when the model says so; the extractive
/// answer, marked `extractive-fallback`, when the model fails.
///
/// With `on_delta`, the model's answer is streamed to it as written; the returned answer (its
/// citations checked, or the fallback) is what stands.
pub async fn ground(
    mut answer: Answer,
    question: &str,
    generator: &dyn Generator,
    context_tokens: usize,
    on_delta: Option<&mut OnDelta<'_>>,
) -> Answer {
    if !answer.grounded || answer.passages.is_empty() {
        return answer;
    }
    let started = Instant::now();
    let prompt = prompt::build(question, answer.lang, &answer.passages, context_tokens);
    let generated = match on_delta {
        Some(on_delta) => generator.generate_stream(&prompt, on_delta).await,
        None => generator.generate(&prompt).await,
    };
    match generated {
        Ok(text) => {
            let cited = citations::check(&text, prompt.passages);
            if cited.dropped > 0 {
                tracing::warn!(
                    dropped = cited.dropped,
                    "citations of passages not given were removed"
                );
            }
            answer.generator = generator.provider().into();
            answer.model = Some(generator.model().into());
            answer.dropped_citations = cited.dropped;
            if refuses(&cited.text) {
                answer.answer = not_in_documentation(answer.lang).into();
                answer.grounded = false;
                answer.sources.clear();
            } else {
                answer.answer = cited.text;
                answer.sources.truncate(prompt.passages);
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "LLM failed; answering with the extractive answer");
            answer.generator = "extractive-fallback".into();
        }
    }
    answer.prompt = Some(prompt);
    let waited = started.elapsed().as_secs_f64() * 1000.0;
    answer.timings.generate_ms = waited;
    answer.latency_ms += waited;
    answer
}

/// Whether the model said the documentation does not have the answer (in either language).
fn refuses(text: &str) -> bool {
    let text = text.to_lowercase().replace('’', "'");
    text.contains("pas cette information dans la documentation")
        || text.contains("don't have this information in the documentation")
}
