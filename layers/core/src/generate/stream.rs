//! Server-sent events from an LLM: both providers stream `data: {json}` events. A stream that
//! ends before the provider's end marker was cut, and is an error, not a short answer.

use std::time::Duration;

use super::{GenerateError, OnDelta, classify};

/// What one `data:` payload says.
pub(super) enum Event {
    /// A piece of the answer (possibly empty).
    Delta(String),
    /// A piece of the answer, and the provider's end marker.
    Last(String),
}

/// Splits a byte stream into SSE events and yields the joined `data:` lines of each.
#[derive(Default)]
pub(super) struct Decoder {
    pending: String,
}

impl Decoder {
    /// Feeds the next piece of the stream and returns the data of the events it completes.
    pub(super) fn feed(&mut self, text: &str) -> Vec<String> {
        self.pending.push_str(&text.replace("\r\n", "\n"));
        let mut events = Vec::new();
        while let Some(end) = self.pending.find("\n\n") {
            let block: String = self.pending.drain(..end + 2).collect();
            let data: Vec<&str> = block
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(|d| d.strip_prefix(' ').unwrap_or(d))
                .collect();
            if !data.is_empty() {
                events.push(data.join("\n"));
            }
        }
        events
    }
}

/// POSTs a JSON body and reads the SSE answer, passing each piece of text to `on_delta` as it
/// arrives; returns the whole text. `timeout` bounds the wait for the answer to start and each
/// silence within it, so a long answer that keeps coming is not cut.
pub(super) async fn post_sse(
    request: reqwest::RequestBuilder,
    body: &serde_json::Value,
    timeout: Duration,
    parse: impl Fn(&str) -> Result<Event, GenerateError>,
    on_delta: &mut OnDelta<'_>,
) -> Result<String, GenerateError> {
    let timeout_ms = timeout.as_millis() as u64;
    let sent = request
        .header("accept", "text/event-stream")
        .json(body)
        .send();
    let mut response = within(timeout, sent)
        .await?
        .map_err(|e| classify(e, timeout_ms))?;
    let status = response.status();
    if !status.is_success() {
        let text = within(timeout, response.text())
            .await?
            .map_err(|e| classify(e, timeout_ms))?;
        return Err(GenerateError::Status {
            status: status.as_u16(),
            body: text.chars().take(300).collect(),
        });
    }
    let mut decoder = Decoder::default();
    let mut carry = Vec::new();
    let mut text = String::new();
    loop {
        let chunk = within(timeout, response.chunk())
            .await?
            .map_err(|e| GenerateError::StreamCut(e.without_url().to_string()))?;
        let Some(chunk) = chunk else {
            return Err(GenerateError::StreamCut(
                "ended before the end marker".into(),
            ));
        };
        carry.extend_from_slice(&chunk);
        let valid = match std::str::from_utf8(&carry) {
            Ok(s) => s.len(),
            Err(e) => e.valid_up_to(),
        };
        let decoded = String::from_utf8_lossy(&carry[..valid]).into_owned();
        carry.drain(..valid);
        for data in decoder.feed(&decoded) {
            let (piece, last) = match parse(&data)? {
                Event::Delta(piece) => (piece, false),
                Event::Last(piece) => (piece, true),
            };
            if !piece.is_empty() {
                on_delta(&piece);
                text.push_str(&piece);
            }
            if last {
                if text.trim().is_empty() {
                    return Err(GenerateError::Malformed("empty answer".into()));
                }
                return Ok(text);
            }
        }
    }
}

async fn within<T>(timeout: Duration, future: impl Future<Output = T>) -> Result<T, GenerateError> {
    tokio::time::timeout(timeout, future)
        .await
        .map_err(|_| GenerateError::Timeout(timeout.as_millis() as u64))
}

#[cfg(test)]
mod tests {
    use super::Decoder;

    #[test]
    fn events_split_anywhere_are_reassembled() {
        let mut d = Decoder::default();
        assert!(d.feed("data: {\"a\"").is_empty());
        assert_eq!(
            d.feed(":1}\r\n\r\n: comment\n\nevent: x\ndata: 2\n"),
            vec!["{\"a\":1}"]
        );
        assert_eq!(d.feed("data: 3\n\n"), vec!["2\n3"]);
    }
}
