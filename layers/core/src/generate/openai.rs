//! Any OpenAI-compatible chat endpoint (`POST {base}/chat/completions`): OpenAI, vLLM, Ollama,
//! llama.cpp server, TGI, Mistral. `base_url` includes the version, e.g. `http://host:8000/v1`.

use serde_json::json;

use super::{Endpoint, GenerateError, Generator, Prompt, post_json};

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
}

#[async_trait::async_trait]
impl Generator for OpenAi {
    fn provider(&self) -> &'static str {
        "openai"
    }

    fn model(&self) -> &str {
        &self.endpoint.model
    }

    async fn generate(&self, prompt: &Prompt) -> Result<String, GenerateError> {
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
            "stream": false,
            "messages": [
                {"role": "system", "content": prompt.system},
                {"role": "user", "content": prompt.user},
            ],
        });
        let answer = post_json(request, &body, self.endpoint.timeout).await?;
        answer["choices"][0]["message"]["content"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| GenerateError::Malformed("no choices[0].message.content".into()))
    }
}
