//! Request limits, enforced by the edge before a request travels and by the functions again.

/// Largest JSON request body, in bytes (a question is at most 1000 characters).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Longest question accepted, in characters.
pub const MAX_QUESTION_CHARS: usize = 1000;
/// Most sources a question may ask for.
pub const MAX_TOP_K: usize = 20;
pub const DEFAULT_TOP_K: usize = 5;
/// Default token lifetime, in seconds (`JWT_TTL_SECS`).
pub const DEFAULT_TOKEN_TTL_SECS: u64 = 3600;
