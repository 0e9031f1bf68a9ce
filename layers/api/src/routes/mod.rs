//! One module per handler; each exposes the router its function serves.

pub mod admin;
pub mod auth;
pub mod docs;
pub mod documents;
pub mod health;
pub mod history;
pub mod query;

use axum::http::HeaderMap;

/// The token of an `Authorization: Bearer <token>` header.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}
