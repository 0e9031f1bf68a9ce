//! What the edge adds to every answer (security headers, CORS, cache policy) and the answers
//! it gives itself, in the functions' error envelope.

use rag_contract::ErrorBody;
use rag_contract::routes::Route;
use wstd::http::body::Body;
use wstd::http::{HeaderMap, HeaderValue, Response, StatusCode};

/// An error answer the edge gives without calling the origin.
pub fn error(status: u16, code: &str, message: &str) -> Response<Body> {
    let body = ErrorBody::new(code, message).to_json();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    response
}

/// A file of the web page, from the component's own copy.
pub fn asset(asset: &'static rag_web::Asset) -> Response<Body> {
    let mut response = Response::new(Body::from(asset.bytes));
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static(asset.content_type));
    headers.insert(
        "cache-control",
        HeaderValue::from_static(asset.cache_control()),
    );
    response
}

/// JSON the edge answers itself.
pub fn json(value: &serde_json::Value) -> Response<Body> {
    let mut response = Response::new(Body::from(value.to_string()));
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    response
}

/// Security headers on every answer, and the cache policy: a shared cache may keep only
/// public GETs the table marks cacheable (never `POST /query`: each one is recorded in
/// history); everything else is `no-store`, authenticated answers above all.
pub fn finish(headers: &mut HeaderMap, route: Option<&Route>, request_id: &str) {
    let set = |headers: &mut HeaderMap, name: &'static str, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(
        headers,
        "strict-transport-security",
        "max-age=63072000; includeSubDomains",
    );
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "referrer-policy", "no-referrer");
    set(headers, "x-frame-options", "DENY");
    set(
        headers,
        "content-security-policy",
        rag_web::CONTENT_SECURITY_POLICY,
    );
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-request-id", id);
    }
    let cacheable = route.is_some_and(|r| r.cacheable);
    if !cacheable {
        set(headers, "cache-control", "no-store");
    } else if !headers.contains_key("cache-control") {
        set(headers, "cache-control", "public, max-age=300");
    }
}

/// CORS for a configured web origin: the answer may be read by that page.
pub fn cors(headers: &mut HeaderMap, allowed: &[String], origin: Option<&str>) {
    let Some(origin) = origin.filter(|o| allowed.iter().any(|a| a == o || a == "*")) else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(origin) {
        headers.insert("access-control-allow-origin", value);
        headers.insert("vary", HeaderValue::from_static("Origin"));
        headers.insert(
            "access-control-allow-headers",
            HeaderValue::from_static("authorization, content-type, accept"),
        );
        headers.insert(
            "access-control-allow-methods",
            HeaderValue::from_static("GET, POST, PATCH, DELETE, OPTIONS"),
        );
        headers.insert("access-control-max-age", HeaderValue::from_static("600"));
    }
}
