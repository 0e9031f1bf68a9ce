//! Any OpenAI-compatible chat endpoint (`POST {base}/chat/completions`): OpenAI, vLLM, Ollama,
//! llama.cpp server, TGI, Mistral. `base_url` includes the version, e.g. `http://host:8000/v1`.

use serde_json::{Value, json};

use super::stream::{self, Event};
use super::{Endpoint, GenerateError, Generator, OnDelta, Prompt, post_json};

pub struct OpenAi {
    endpoint: Endpoint,
    client: reqwest::Client,
}

impl OpenAi {
    pub fn new(endpoint: Endpoint) -> Self {
        OpenAi {
            endpoint,
            client: reqwest::Client::new(),
        }
    }

    fn request(&self, prompt: &Prompt, stream: bool) -> (reqwest::RequestBuilder, Value) {
        let url = format!(
            "{}/chat/completions",
            self.endpoint.base_url.trim_end_matches('/')
        );
        let mut request = self.client.post(url);
        if let Some(key) = &self.endpoint.api_key {
            request = request.bearer_auth(key);
        }
        let body = json!({
            "model": self.endpoint.model,
            "temperature": self.endpoint.temperature,
            "stream": stream,
            "messages": [
                {"role": "system", "content": prompt.system},
                {"role": "user", "content": prompt.user},
            ],
        });
        (request, body)
    }
}

/// One event of a streamed completion: `choices[0].delta.content` pieces, a `finish_reason`
/// on the last, then `[DONE]` (some servers send only one of the two).
fn stream_event(data: &str) -> Result<Event, GenerateError> {
    if data.trim() == "[DONE]" {
        return Ok(Event::Last(String::new()));
    }
    let chunk: Value =
        serde_json::from_str(data).map_err(|e| GenerateError::Malformed(e.to_string()))?;
    if let Some(error) = chunk.get("error") {
        let message = error["message"].as_str().unwrap_or("error event");
        return Err(GenerateError::Malformed(message.to_string()));
    }
    let choice = &chunk["choices"][0];
    let text = choice["delta"]["content"]
        .as_str()
        .unwrap_or("")
        .to_string();
    Ok(match choice["finish_reason"].as_str() {
        Some(_) => Event::Last(text),
        None => Event::Delta(text),
    })
}

#[async_trait::async_trait]
impl Generator for OpenAi {
    fn provider(&self) -> &'static str {
        "openai"
    }

    fn model(&self) -> &str {
        &self.endpoint.model
    }

    fn temperature(&self) -> f32 {
        self.endpoint.temperature
    }

    async fn generate(&self, prompt: &Prompt) -> Result<String, GenerateError> {
        let (request, body) = self.request(prompt, false);
        let answer = post_json(request, &body, self.endpoint.timeout).await?;
        answer["choices"][0]["message"]["content"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| GenerateError::Malformed("no choices[0].message.content".into()))
    }

    async fn generate_stream(
        &self,
        prompt: &Prompt,
        on_delta: &mut OnDelta<'_>,
    ) -> Result<String, GenerateError> {
        let (request, body) = self.request(prompt, true);
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
