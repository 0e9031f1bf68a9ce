//! Bounded retries with exponential backoff on overload and server errors, and a circuit
//! breaker: after repeated failures calls stop for a while, so a down LLM costs no latency.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{GenerateError, Generator, OnDelta, Prompt};

/// Consecutive failed calls that open the circuit.
const FAILURES_TO_OPEN: u32 = 5;

pub struct Resilient<G> {
    inner: G,
    retries: u32,
    backoff: Duration,
    open_for: Duration,
    state: Mutex<Breaker>,
}

#[derive(Default)]
struct Breaker {
    failures: u32,
    open_until: Option<Instant>,
}

impl<G: Generator> Resilient<G> {
    /// `retries` more attempts after the first, waiting `backoff`, 2×`backoff`, …; the circuit
    /// stays open `open_for` after [`FAILURES_TO_OPEN`] failed calls.
    pub fn new(inner: G, retries: u32, backoff: Duration, open_for: Duration) -> Self {
        Resilient {
            inner,
            retries,
            backoff,
            open_for,
            state: Mutex::new(Breaker::default()),
        }
    }

    fn open_for_secs(&self) -> Option<u64> {
        let state = self.state.lock().ok()?;
        let until = state.open_until?;
        let now = Instant::now();
        (until > now).then(|| (until - now).as_secs().max(1))
    }

    fn record(&self, ok: bool) {
        if let Ok(mut state) = self.state.lock() {
            if ok {
                *state = Breaker::default();
            } else {
                state.failures += 1;
                if state.failures >= FAILURES_TO_OPEN {
                    state.open_until = Some(Instant::now() + self.open_for);
                    state.failures = 0;
                    tracing::warn!(provider = self.inner.provider(), "LLM circuit opened");
                }
            }
        }
    }
}

impl<G: Generator> Resilient<G> {
    /// One call with retries: streamed when `on_delta` is given, and then retried only while
    /// nothing was passed on (a reader cannot take back text it was shown).
    async fn call(
        &self,
        prompt: &Prompt,
        mut on_delta: Option<&mut OnDelta<'_>>,
    ) -> Result<String, GenerateError> {
        if let Some(secs) = self.open_for_secs() {
            return Err(GenerateError::CircuitOpen(secs));
        }
        let mut attempt = 0;
        let mut streamed = false;
        loop {
            let result = match on_delta.as_deref_mut() {
                None => self.inner.generate(prompt).await,
                Some(on_delta) => {
                    let mut forward = |piece: &str| {
                        streamed = true;
                        on_delta(piece);
                    };
                    self.inner.generate_stream(prompt, &mut forward).await
                }
            };
            match result {
                Ok(text) => {
                    self.record(true);
                    return Ok(text);
                }
                Err(e) if e.retryable() && attempt < self.retries && !streamed => {
                    tracing::info!(provider = self.inner.provider(), attempt, error = %e, "LLM call failed; retrying");
                    tokio::time::sleep(self.backoff * 2u32.pow(attempt)).await;
                    attempt += 1;
                }
                Err(e) => {
                    self.record(false);
                    return Err(e);
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl<G: Generator> Generator for Resilient<G> {
    fn provider(&self) -> &'static str {
        self.inner.provider()
    }

    fn model(&self) -> &str {
        self.inner.model()
    }

    fn temperature(&self) -> f32 {
        self.inner.temperature()
    }

    async fn generate(&self, prompt: &Prompt) -> Result<String, GenerateError> {
        self.call(prompt, None).await
    }

    async fn generate_stream(
        &self,
        prompt: &Prompt,
        on_delta: &mut OnDelta<'_>,
    ) -> Result<String, GenerateError> {
        self.call(prompt, Some(on_delta)).await
    }
}
