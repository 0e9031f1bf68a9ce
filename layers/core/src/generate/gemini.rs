//! Google Gemini (`POST {base}/v1beta/models/{model}:generateContent`), the original project's
//! model. The key goes in the `x-goog-api-key` header, never in the URL (URLs get logged).

use serde_json::json;

use super::{Endpoint, GenerateError, Generator, Prompt, post_json};

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
}

#[async_trait::async_trait]
impl Generator for Gemini {
    fn provider(&self) -> &'static str {
        "gemini"
    }

    fn model(&self) -> &str {
        &self.endpoint.model
    }

    async fn generate(&self, prompt: &Prompt) -> Result<String, GenerateError> {
        let url = format!(
            "{}/v1beta/models/{}:generateContent",
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
        let answer = post_json(request, &body, self.endpoint.timeout).await?;
        let parts = answer["candidates"][0]["content"]["parts"]
            .as_array()
            .ok_or_else(|| {
                let reason = answer["promptFeedback"]["blockReason"]
                    .as_str()
                    .or(answer["candidates"][0]["finishReason"].as_str())
                    .unwrap_or("no candidates[0].content.parts");
                GenerateError::Malformed(reason.to_string())
            })?;
        let text: String = parts.iter().filter_map(|p| p["text"].as_str()).collect();
        if text.trim().is_empty() {
            return Err(GenerateError::Malformed("empty answer".into()));
        }
        Ok(text)
    }
}
