//! Google Gemini (`POST {base}/v1beta/models/{model}:generateContent`, and
//! `:streamGenerateContent?alt=sse`), the original project's model. The key goes in the
//! `x-goog-api-key` header, never in the URL (URLs get logged).

use serde_json::{Value, json};

use super::stream::{self, Event};
use super::{Endpoint, GenerateError, Generator, OnDelta, Prompt, post_json};

/// The public endpoint, when LLM_BASE_URL is not set.
pub const GEMINI_BASE_URL: &str = "https://generativelanguage.googleapis.com";

pub struct Gemini {
    endpoint: Endpoint,
    client: reqwest::Client,
}

impl Gemini {
    pub fn new(endpoint: Endpoint) -> Self {
        Gemini {
            endpoint,
            client: reqwest::Client::new(),
        }
    }

    fn request(&self, method: &str, prompt: &Prompt) -> (reqwest::RequestBuilder, Value) {
        let url = format!(
            "{}/v1beta/models/{}:{method}",
            self.endpoint.base_url.trim_end_matches('/'),
            self.endpoint.model
        );
        let mut request = self.client.post(url);
        if let Some(key) = &self.endpoint.api_key {
            request = request.header("x-goog-api-key", key);
        }
        let body = json!({
            "systemInstruction": {"parts": [{"text": prompt.system}]},
            "contents": [{"role": "user", "parts": [{"text": prompt.user}]}],
            "generationConfig": {"temperature": self.endpoint.temperature},
        });
        (request, body)
    }
}

/// Why Gemini gave no text: a blocked prompt or an abnormal finish.
fn refusal(answer: &Value) -> Option<String> {
    let finish = answer["candidates"][0]["finishReason"].as_str();
    answer["promptFeedback"]["blockReason"]
        .as_str()
        .or(finish.filter(|f| !matches!(*f, "STOP" | "MAX_TOKENS")))
        .map(str::to_string)
}

fn text_of(answer: &Value) -> String {
    answer["candidates"][0]["content"]["parts"]
        .as_array()
        .map(|parts| parts.iter().filter_map(|p| p["text"].as_str()).collect())
        .unwrap_or_default()
}

/// One event of `streamGenerateContent?alt=sse`: a partial response; the last carries
/// `finishReason`.
fn stream_event(data: &str) -> Result<Event, GenerateError> {
    let answer: Value =
        serde_json::from_str(data).map_err(|e| GenerateError::Malformed(e.to_string()))?;
    if let Some(reason) = refusal(&answer) {
        return Err(GenerateError::Malformed(reason));
    }
    let text = text_of(&answer);
    Ok(match answer["candidates"][0]["finishReason"].as_str() {
        Some(_) => Event::Last(text),
        None => Event::Delta(text),
    })
}

#[async_trait::async_trait]
impl Generator for Gemini {
    fn provider(&self) -> &'static str {
        "gemini"
    }

    fn model(&self) -> &str {
        &self.endpoint.model
    }

    fn temperature(&self) -> f32 {
        self.endpoint.temperature
    }

    async fn generate(&self, prompt: &Prompt) -> Result<String, GenerateError> {
        let (request, body) = self.request("generateContent", prompt);
        let answer = post_json(request, &body, self.endpoint.timeout).await?;
        if answer["candidates"][0]["content"]["parts"]
            .as_array()
            .is_none()
        {
            let reason = refusal(&answer).unwrap_or("no candidates[0].content.parts".into());
            return Err(GenerateError::Malformed(reason));
        }
        let text = text_of(&answer);
        if text.trim().is_empty() {
            return Err(GenerateError::Malformed("empty answer".into()));
        }
        Ok(text)
    }

    async fn generate_stream(
        &self,
        prompt: &Prompt,
        on_delta: &mut OnDelta<'_>,
    ) -> Result<String, GenerateError> {
        let (request, body) = self.request("streamGenerateContent", prompt);
        let request = request.query(&[("alt", "sse")]);
        stream::post_sse(
            request,
            &body,
            self.endpoint.timeout,
            stream_event,
            on_delta,
        )
        .await
    }
}
