//! Passing a request on to its function and the answer back, as API Gateway would: headers
//! kept but for hop-by-hop ones, bodies streamed both ways (an SSE answer arrives event by
//! event, not buffered).

use wstd::http::body::Body;
use wstd::http::{Client, HeaderMap, HeaderValue, Request, Response};

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1), and the host,
/// which names the edge rather than the origin.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
];

fn end_to_end(
    headers: &HeaderMap,
) -> impl Iterator<Item = (&wstd::http::HeaderName, &HeaderValue)> {
    let named_in_connection: Vec<String> = headers
        .get_all("connection")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    headers.iter().filter(move |(name, _)| {
        let name = name.as_str();
        !HOP_BY_HOP.contains(&name) && !named_in_connection.iter().any(|h| h == name)
    })
}

/// What the edge tells the function about the request.
pub struct Forwarded<'a> {
    pub request_id: &'a str,
    pub client: Option<&'a str>,
    pub secret: Option<&'a str>,
}

/// Sends `parts` with `body` to `origin` and returns the function's answer, its body still
/// streaming. A GET or HEAD whose connection fails before any answer is sent once more, as a
/// reverse proxy does for idempotent requests (a connection reset under load is transient).
pub async fn forward(
    origin: &str,
    parts: &http::request::Parts,
    body: Body,
    forwarded: Forwarded<'_>,
) -> Result<Response<Body>, String> {
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut headers = HeaderMap::new();
    for (name, value) in end_to_end(&parts.headers) {
        if !name.as_str().starts_with("x-edge-") && name != "x-forwarded-for" {
            headers.append(name, value.clone());
        }
    }
    let mut add = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    add("x-request-id", forwarded.request_id);
    if let Some(client) = forwarded.client {
        add("x-forwarded-for", client);
    }
    if let Some(secret) = forwarded.secret {
        add("x-edge-secret", secret);
    }
    if let Some(host) = parts.headers.get("host").and_then(|h| h.to_str().ok()) {
        add("x-forwarded-host", host);
    }
    let request = |body: Body| -> Result<Request<Body>, String> {
        let mut request = Request::builder()
            .method(parts.method.clone())
            .uri(format!("{origin}{path}"))
            .body(body)
            .map_err(|e| e.to_string())?;
        *request.headers_mut() = headers.clone();
        Ok(request)
    };
    // A request without a body sends none (rather than an empty stream spliced across).
    let bodiless = body.content_length() == Some(0)
        || (!parts.headers.contains_key("content-length")
            && !parts.headers.contains_key("transfer-encoding"));
    let idempotent = matches!(parts.method.as_str(), "GET" | "HEAD");
    let answer = if bodiless && idempotent {
        match Client::new().send(request(Body::empty())?).await {
            Ok(answer) => Ok(answer),
            Err(_) => Client::new().send(request(Body::empty())?).await,
        }
    } else {
        let body = if bodiless { Body::empty() } else { body };
        Client::new().send(request(body)?).await
    }
    .map_err(|e| format!("origin unreachable: {e}"))?;
    let (answer_parts, answer_body) = answer.into_parts();
    let mut response = Response::new(answer_body);
    *response.status_mut() = answer_parts.status;
    for (name, value) in end_to_end(&answer_parts.headers) {
        response.headers_mut().append(name, value.clone());
    }
    Ok(response)
}
