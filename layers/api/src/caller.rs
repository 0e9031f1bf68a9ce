//! Who is calling: the `AuthUser` and `Admin` extractors. Every authenticated route takes one
//! of them as its first argument, so no route can forget the check, and the check runs on the
//! request head before any body extractor reads a byte of the body.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use rag_core::accounts;
use rag_core::store::User;

use crate::error::ApiError;
use crate::server::Peer;
use crate::state::App;

/// An active account holding a valid bearer token.
pub struct AuthUser(pub User);

/// An active administrator holding a valid bearer token.
pub struct Admin(pub User);

impl FromRequestParts<App> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let user =
            accounts::authenticate(app.store.as_ref(), &app.tokens, bearer(&parts.headers)).await?;
        Ok(AuthUser(user))
    }
}

impl FromRequestParts<App> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let AuthUser(user) = AuthUser::from_request_parts(parts, app).await?;
        accounts::require_admin(&user)?;
        Ok(Admin(user))
    }
}

/// The caller's network address, as login throttling counts it: the connection's peer outside
/// Lambda, the source IP API Gateway saw in Lambda. `X-Forwarded-For` is read only from the
/// edge tier, which proves itself with `X-Edge-Secret` (any client can write the header;
/// without it, every caller behind the edge would share the edge's address and its budget).
pub struct ClientAddress(pub Option<String>);

impl FromRequestParts<App> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        use lambda_http::request::RequestContext;
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        if app.edge.is_edge(header("x-edge-secret"))
            && let Some(forwarded) = header("x-forwarded-for")
                .and_then(|v| v.rsplit(',').next())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        {
            return Ok(ClientAddress(Some(forwarded.to_string())));
        }
        if let Some(Peer(peer)) = parts.extensions.get::<Peer>() {
            return Ok(ClientAddress(Some(peer.ip().to_string())));
        }
        let source_ip = match parts.extensions.get::<RequestContext>() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone(),
            Some(RequestContext::ApiGatewayV1(ctx)) => ctx.identity.source_ip.clone(),
            _ => None,
        };
        Ok(ClientAddress(source_ip))
    }
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    credentials(headers, "bearer")
}

/// The credentials of an `Authorization: <scheme> <credentials>` header.
pub fn credentials<'h>(headers: &'h HeaderMap, scheme: &str) -> Option<&'h str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (given, credentials) = value.split_once(' ')?;
    given
        .eq_ignore_ascii_case(scheme)
        .then(|| credentials.trim())
        .filter(|c| !c.is_empty())
}
