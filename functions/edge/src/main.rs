//! The edge tier: a wasi:http proxy component in front of the functions. It turns away what
//! the functions should never pay for (missing, expired or forged tokens, oversized or
//! malformed bodies, floods), routes the rest to the function serving it, and passes the
//! answers back, streams included. It serves the web page itself, from its embedded copy. Runs on any wasi:http host (`wasmtime serve`, Spin, jco):
//! only its environment changes.

mod answer;
mod config;
mod forward;
mod limit;

use http_body_util::{BodyExt, Limited};
use rag_contract::limits::MAX_BODY_BYTES;
use rag_contract::request::{self, parse_json};
use rag_contract::routes::{self, Access, BodyCheck, Miss, Route};
use rag_contract::{LoginRequest, QueryRequest, RequestError, Role};
use std::time::Instant;
use wstd::http::body::Body;
use wstd::http::{Error, HeaderMap, HeaderValue, Request, Response};

use crate::config::Config;

/// What the request log line records besides status and latency.
struct Outcome {
    route: &'static str,
    origin_called: bool,
    note: Option<String>,
}

#[wstd::http_server]
async fn main(request: Request<Body>) -> Result<Response<Body>, Error> {
    let started = Instant::now();
    let request_id = request_id(request.headers());
    let method = request.method().to_string();
    let path = request.uri().path().to_string();
    let cors_origin = header(request.headers(), "origin").map(str::to_string);
    let config = Config::from_env();
    let (mut response, route, outcome) = match &config {
        Ok(config) => handle(config, request, &request_id).await,
        Err(e) => (
            answer::error(500, "misconfigured", "the edge is misconfigured"),
            None,
            Outcome {
                route: "-",
                origin_called: false,
                note: Some(e.clone()),
            },
        ),
    };
    answer::finish(response.headers_mut(), route, &request_id);
    if let Ok(config) = &config {
        answer::cors(
            response.headers_mut(),
            &config.cors_origins,
            cors_origin.as_deref(),
        );
    }
    let line = serde_json::json!({
        "request_id": request_id,
        "method": method,
        "path": path,
        "route": outcome.route,
        "status": response.status().as_u16(),
        "latency_ms": started.elapsed().as_secs_f64() * 1000.0,
        "origin_called": outcome.origin_called,
        "note": outcome.note,
    });
    println!("{line}");
    Ok(response)
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The caller's id when it is a sane one (a client correlating its own logs), else a new one.
fn request_id(headers: &HeaderMap) -> String {
    let given = header(headers, "x-request-id").filter(|id| {
        (8..=64).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    match given {
        Some(id) => id.to_string(),
        None => {
            let mut bytes = [0u8; 16];
            wstd::rand::get_random_bytes(&mut bytes);
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        }
    }
}

/// The edge's own answer, or the function's.
async fn handle(
    config: &Config,
    request: Request<Body>,
    request_id: &str,
) -> (Response<Body>, Option<&'static Route>, Outcome) {
    let outcome = |route: &'static str, note: Option<String>| Outcome {
        route,
        origin_called: false,
        note,
    };
    let path = request.uri().path().to_string();
    let method = request.method().as_str().to_string();
    if path == "/edge/health" && method == "GET" {
        return (health(config), None, outcome("/edge/health", None));
    }
    if method == "GET"
        && let Some(asset) = rag_web::find(&path)
    {
        return (
            answer::asset(asset),
            routes::find("GET", &path).ok(),
            outcome("asset", None),
        );
    }
    if method == "OPTIONS" {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = wstd::http::StatusCode::NO_CONTENT;
        return (response, None, outcome("preflight", None));
    }
    let route = match routes::find(&method, &path) {
        Ok(route) if route.access != Access::Internal => route,
        Ok(_) | Err(Miss::NotFound) => {
            return (
                answer::error(404, "not_found", "no such route"),
                None,
                outcome("-", None),
            );
        }
        Err(Miss::MethodNotAllowed) => {
            let mut response = answer::error(405, "method_not_allowed", "method not allowed");
            if let Ok(allow) = HeaderValue::from_str(&routes::allowed_methods(&path).join(", ")) {
                response.headers_mut().insert("allow", allow);
            }
            return (response, None, outcome("-", None));
        }
    };
    match admit(config, route, request, request_id).await {
        Ok((response, note)) => (
            response,
            Some(route),
            Outcome {
                route: route.path,
                origin_called: true,
                note,
            },
        ),
        Err((response, note)) => (response, Some(route), outcome(route.path, note)),
    }
}

type Refusal = (Response<Body>, Option<String>);

fn refuse(status: u16, code: &str, message: &str) -> Refusal {
    (answer::error(status, code, message), None)
}

fn invalid(e: RequestError) -> Refusal {
    refuse(e.status(), e.code(), &e.to_string())
}

/// Checks the caller, the body and the rate, then forwards.
async fn admit(
    config: &Config,
    route: &'static Route,
    request: Request<Body>,
    request_id: &str,
) -> Result<(Response<Body>, Option<String>), Refusal> {
    let (parts, body) = request.into_parts();
    let client = config
        .client_ip_header
        .as_deref()
        .and_then(|h| header(&parts.headers, h))
        .and_then(|v| v.rsplit(',').next())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty());
    let mut rate_key = None;
    if route.access != Access::Public {
        let token = bearer(&parts.headers)
            .ok_or_else(|| refuse(401, "missing_token", "missing bearer token"))?;
        let claims = config
            .verifier
            .verify(token)
            .map_err(|_| refuse(401, "invalid_token", "invalid or expired token"))?;
        if route.access == Access::Admin && claims.role != Role::Admin {
            return Err(refuse(403, "admin_required", "administrator role required"));
        }
        rate_key = Some((format!("user:{}", claims.sub), config.user_rate));
    }
    let body = match route.body {
        BodyCheck::Stream => body,
        check => {
            let bytes = read_json(&parts.headers, body).await.map_err(invalid)?;
            match check {
                BodyCheck::Login => {
                    let login: LoginRequest = parse_json(&bytes).map_err(invalid)?;
                    let who = client
                        .clone()
                        .unwrap_or_else(|| format!("account:{}", login.username));
                    rate_key = Some((format!("login:{who}"), config.login_rate));
                }
                _ => {
                    let query: QueryRequest = parse_json(&bytes).map_err(invalid)?;
                    query.check().map_err(invalid)?;
                }
            }
            Body::from(bytes)
        }
    };
    let mut note = None;
    if let Some((key, rate)) = rate_key {
        match limit::hit(config, &key, rate).await {
            Ok(Some(standing)) if !standing.allowed => {
                let mut response =
                    answer::error(429, "rate_limited", "too many requests: slow down");
                response
                    .headers_mut()
                    .insert("retry-after", standing.retry_after_secs.max(1).into());
                return Err((response, None));
            }
            Ok(_) => {}
            Err(e) => note = Some(e),
        }
    }
    let origin = config
        .origin(route.function)
        .ok_or_else(|| refuse(502, "no_origin", "no origin configured for this route"))?;
    let forwarded = forward::Forwarded {
        request_id,
        client: client.as_deref(),
        secret: config.secret.as_deref(),
    };
    match forward::forward(origin, &parts, body, forwarded).await {
        Ok(response) => Ok((response, note)),
        Err(e) => Err((
            answer::error(502, "origin_unavailable", "the service is unreachable"),
            Some(e),
        )),
    }
}

/// A JSON body of at most [`MAX_BODY_BYTES`], refused before it is read when its declared
/// length is already too large.
async fn read_json(headers: &HeaderMap, body: Body) -> Result<Vec<u8>, RequestError> {
    if !header(headers, "content-type").is_some_and(request::is_json_content_type) {
        return Err(RequestError::Malformed(
            "expected Content-Type: application/json".into(),
        ));
    }
    if body
        .content_length()
        .is_some_and(|n| n > MAX_BODY_BYTES as u64)
    {
        return Err(RequestError::BodyTooLarge);
    }
    let collected = Limited::new(body.into_boxed_body(), MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|_| RequestError::BodyTooLarge)?;
    Ok(collected.to_bytes().to_vec())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let (scheme, token) = header(headers, "authorization")?.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn health(config: &Config) -> Response<Body> {
    let origins: serde_json::Map<String, serde_json::Value> = routes::Function::ALL
        .iter()
        .map(|f| (f.name().to_string(), config.origin(*f).into()))
        .collect();
    answer::json(&serde_json::json!({
        "status": "ok",
        "origins": origins,
        "keys": config.verifier.public_keys().kids(),
        "rate_limits": config.secret.is_some(),
    }))
}
