//! Grounded generation by an LLM: the `Generator` trait and its adapters (Gemini
//! `generateContent`, any OpenAI-compatible `/chat/completions`), wrapped with retries and a
//! circuit breaker. The prompt is built in [`prompt`]; the model's citations are checked in
//! [`citations`]. The extractive answerer stays the default and the fallback.

pub mod citations;
mod gemini;
mod ground;
mod openai;
pub mod prompt;
mod resilient;
mod stream;

use std::time::Duration;

pub use gemini::Gemini;
pub use ground::ground;
pub use openai::OpenAi;
pub use prompt::{Passage, Prompt};
pub use resilient::Resilient;

/// Why a generation failed.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("LLM request timed out after {0} ms")]
    Timeout(u64),
    #[error("LLM answered HTTP {status}: {body}")]
    Status { status: u16, body: String },
    #[error("LLM response malformed: {0}")]
    Malformed(String),
    #[error("LLM stream cut: {0}")]
    StreamCut(String),
    #[error("LLM unreachable: {0}")]
    Unavailable(String),
    #[error("LLM calls suspended after repeated failures (for {0} s more)")]
    CircuitOpen(u64),
}

impl GenerateError {
    /// Worth another attempt: overload, server errors, timeouts and connection failures.
    fn retryable(&self) -> bool {
        match self {
            GenerateError::Timeout(_)
            | GenerateError::Unavailable(_)
            | GenerateError::StreamCut(_) => true,
            GenerateError::Status { status, .. } => *status == 429 || *status >= 500,
            GenerateError::Malformed(_) | GenerateError::CircuitOpen(_) => false,
        }
    }
}

/// Receives the pieces of an answer as the model writes them.
pub type OnDelta<'a> = dyn FnMut(&str) + Send + 'a;

/// A chat model that turns a prompt into an answer.
#[async_trait::async_trait]
pub trait Generator: Send + Sync {
    /// "gemini" or "openai".
    fn provider(&self) -> &'static str;
    fn model(&self) -> &str;
    fn temperature(&self) -> f32;
    async fn generate(&self, prompt: &Prompt) -> Result<String, GenerateError>;
    /// Like `generate`, passing each piece of the answer to `on_delta` as the model writes it.
    /// A failure may come after some pieces were passed.
    async fn generate_stream(
        &self,
        prompt: &Prompt,
        on_delta: &mut OnDelta<'_>,
    ) -> Result<String, GenerateError>;
}

/// Connection settings of an LLM endpoint. The key is never printed.
#[derive(Clone)]
pub struct Endpoint {
    pub base_url: String,
    pub model: String,
    pub api_key: Option<String>,
    pub temperature: f32,
    pub timeout: Duration,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("temperature", &self.temperature)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Which API an LLM endpoint speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Gemini,
    OpenAi,
}

impl Provider {
    /// `LLM_PROVIDER`: "gemini" or "openai" (`None` for "extractive", the default).
    pub fn parse(name: &str) -> Result<Option<Provider>, String> {
        match name.trim().to_ascii_lowercase().as_str() {
            "" | "extractive" => Ok(None),
            "gemini" => Ok(Some(Provider::Gemini)),
            "openai" => Ok(Some(Provider::OpenAi)),
            other => Err(format!(
                "LLM_PROVIDER={other:?}: expected extractive, gemini or openai"
            )),
        }
    }

    /// The public endpoint, when `LLM_BASE_URL` is not set.
    pub fn default_base_url(self) -> &'static str {
        match self {
            Provider::Gemini => gemini::GEMINI_BASE_URL,
            Provider::OpenAi => "https://api.openai.com/v1",
        }
    }
}

/// Context budget of a prompt, in tokens: the five best passages fit with room to spare in
/// the smallest windows served today (8k).
pub const CONTEXT_TOKENS: usize = 3000;

/// Retries after a failed call, and the first wait (doubled each time).
const RETRIES: u32 = 2;
const BACKOFF: Duration = Duration::from_millis(250);
/// How long calls stop once the circuit opens.
const OPEN_FOR: Duration = Duration::from_secs(30);

/// The generator for a provider, with retries and a circuit breaker.
pub fn connect(provider: Provider, endpoint: Endpoint) -> std::sync::Arc<dyn Generator> {
    match provider {
        Provider::Gemini => std::sync::Arc::new(Resilient::new(
            Gemini::new(endpoint),
            RETRIES,
            BACKOFF,
            OPEN_FOR,
        )),
        Provider::OpenAi => std::sync::Arc::new(Resilient::new(
            OpenAi::new(endpoint),
            RETRIES,
            BACKOFF,
            OPEN_FOR,
        )),
    }
}

/// POSTs a JSON body and reads a JSON answer, mapping every failure to a [`GenerateError`].
async fn post_json(
    request: reqwest::RequestBuilder,
    body: &serde_json::Value,
    timeout: Duration,
) -> Result<serde_json::Value, GenerateError> {
    let timeout_ms = timeout.as_millis() as u64;
    let classify = |e| classify(e, timeout_ms);
    let response = request
        .timeout(timeout)
        .json(body)
        .send()
        .await
        .map_err(classify)?;
    let status = response.status();
    let text = response.text().await.map_err(classify)?;
    if !status.is_success() {
        return Err(GenerateError::Status {
            status: status.as_u16(),
            body: text.chars().take(300).collect(),
        });
    }
    serde_json::from_str(&text).map_err(|e| GenerateError::Malformed(e.to_string()))
}

/// A failed HTTP exchange; the URL is left out of the message (it may carry a key).
fn classify(e: reqwest::Error, timeout_ms: u64) -> GenerateError {
    if e.is_timeout() {
        GenerateError::Timeout(timeout_ms)
    } else {
        GenerateError::Unavailable(e.without_url().to_string())
    }
}

#[cfg(test)]
mod tests;
