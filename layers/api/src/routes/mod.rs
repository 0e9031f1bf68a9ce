//! One module per handler; each exposes the router its function serves.

pub mod admin;
pub mod auth;
pub mod clusters;
pub mod docs;
pub mod documents;
pub mod health;
pub mod history;
pub mod query;

use axum::http::HeaderMap;
use rag_core::accounts;

use crate::error::ApiError;
use crate::state::App;

/// Checks that the caller is an active administrator.
pub(crate) async fn admin(app: &App, headers: &HeaderMap) -> Result<(), ApiError> {
    let caller = accounts::authenticate(app.store.as_ref(), &app.tokens, bearer(headers)).await?;
    Ok(accounts::require_admin(&caller)?)
}

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
