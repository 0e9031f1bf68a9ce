//! Request counters for the edge's rate limits. `wasmtime serve` gives every request a fresh
//! component instance, so the edge keeps nothing between requests: it asks the origin to count
//! (`POST /edge/hits`). Counts are per process, in fixed windows: one login function (or one
//! `rag serve`) behind the edges counts exactly; N replicas let up to N times the limit through.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Keys kept before expired windows are swept.
const SWEEP_AT: usize = 10_000;
/// Longest key counted (a username or an address with a prefix).
const MAX_KEY_CHARS: usize = 200;

/// Where a request stands against its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Standing {
    pub count: u32,
    pub allowed: bool,
    /// Seconds until the window resets.
    pub retry_after_secs: u64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RateError {
    #[error("key: 1 to {MAX_KEY_CHARS} characters")]
    Key,
    #[error("max and window_secs must be positive, window_secs at most a day")]
    Limit,
}

#[derive(Debug, Default)]
pub struct Counters {
    windows: Mutex<HashMap<String, (u64, u32)>>,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Counters {
    /// Counts one request against `key`: allowed while the window holds at most `max`.
    pub fn hit(&self, key: &str, max: u32, window_secs: u64) -> Result<Standing, RateError> {
        self.hit_at(key, max, window_secs, now_secs())
    }

    fn hit_at(
        &self,
        key: &str,
        max: u32,
        window_secs: u64,
        now: u64,
    ) -> Result<Standing, RateError> {
        if key.is_empty() || key.chars().count() > MAX_KEY_CHARS {
            return Err(RateError::Key);
        }
        if max == 0 || !(1..=86_400).contains(&window_secs) {
            return Err(RateError::Limit);
        }
        let start = now - now % window_secs;
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() >= SWEEP_AT {
            windows.retain(|_, (ends, _)| *ends > now);
        }
        let entry = windows
            .entry(key.to_string())
            .or_insert((start + window_secs, 0));
        if entry.0 <= now {
            *entry = (start + window_secs, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        Ok(Standing {
            count: entry.1,
            allowed: entry.1 <= max,
            retry_after_secs: entry.0 - now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_allows_its_limit_then_resets() {
        let counters = Counters::default();
        let at = 1_000_020;
        for n in 1..=3 {
            let s = counters.hit_at("login:a", 3, 60, at).expect("hit");
            assert_eq!((s.count, s.allowed), (n, true));
        }
        let refused = counters.hit_at("login:a", 3, 60, at + 5).expect("hit");
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after_secs, 1_000_080 - (at + 5));
        assert!(
            counters
                .hit_at("login:b", 3, 60, at)
                .expect("other key")
                .allowed
        );
        assert!(
            counters
                .hit_at("login:a", 3, 60, 1_000_080)
                .expect("next window")
                .allowed
        );
    }

    #[test]
    fn bad_keys_and_limits_are_refused() {
        let counters = Counters::default();
        assert_eq!(counters.hit("", 1, 60), Err(RateError::Key));
        assert_eq!(counters.hit(&"k".repeat(201), 1, 60), Err(RateError::Key));
        assert_eq!(counters.hit("k", 0, 60), Err(RateError::Limit));
        assert_eq!(counters.hit("k", 1, 0), Err(RateError::Limit));
    }
}
