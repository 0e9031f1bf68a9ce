//! POST /auth/login

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::routing::post;
use axum::{Json, Router};
use rag_core::accounts;

use crate::caller::ClientAddress;
use crate::dto::{LoginRequest, TokenResponse};
use crate::error::{ApiError, ErrorBody};
use crate::state::App;

pub fn router() -> Router<App> {
    Router::new().route("/auth/login", post(login))
}

/// Exchanges a username and password for a bearer token.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 400, body = ErrorBody, description = "malformed body"),
        (status = 401, body = ErrorBody, description = "unknown user or wrong password"),
        (status = 403, body = ErrorBody, description = "account deactivated"),
        (status = 429, body = ErrorBody, description = "too many failed logins for this account or address; see Retry-After"),
    ))]
pub async fn login(
    State(app): State<App>,
    ClientAddress(client): ClientAddress,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<Json<TokenResponse>, ApiError> {
    let Json(req) = body?;
    let t = accounts::login(
        app.store.as_ref(),
        &app.tokens,
        &req.username,
        &req.password,
        client.as_deref(),
    )
    .await?;
    Ok(Json(TokenResponse {
        token: t.token,
        token_type: t.token_type,
        expires_in: t.expires_in,
    }))
}
