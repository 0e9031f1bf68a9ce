//! POST /auth/login, and GET /.well-known/jwks.json: the public keys that check its tokens.

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use rag_core::accounts;

use crate::caller::ClientAddress;
use crate::dto::{LoginRequest, TokenResponse};
use crate::error::{ApiError, ErrorBody};
use crate::state::App;

pub fn router() -> Router<App> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/.well-known/jwks.json", get(jwks))
}

/// The public keys that verify tokens (several during a rotation, chosen by `kid`): what the
/// edge tier and other services check tokens with.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "auth",
    responses(
        (status = 200, description = "a JWKS (RFC 7517)", content_type = "application/jwk-set+json"),
        (status = 404, body = ErrorBody, description = "tokens are HS256: no public key to publish"),
    ))]
pub async fn jwks(State(app): State<App>) -> Result<impl IntoResponse, ApiError> {
    let document = app.tokens.jwks().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_public_keys",
            "tokens are signed with a shared secret: there is no public key to publish",
        )
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/jwk-set+json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        document.to_string(),
    ))
}

/// Exchanges a username and password for a bearer token.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse, description = "a bearer token"),
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
