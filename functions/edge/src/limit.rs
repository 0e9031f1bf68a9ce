//! Rate limits. `wasmtime serve` gives each request a fresh instance, so nothing counted in the
//! component's memory survives it: the counters live at the origin (`POST /edge/hits`, kept by
//! the login function), which the edge proves itself to with `EDGE_SECRET`.

use serde::{Deserialize, Serialize};
use wstd::http::body::Body;
use wstd::http::{Client, Request};

use crate::config::{Config, Rate};
use rag_contract::routes::Function;

#[derive(Serialize)]
struct Hit<'a> {
    key: &'a str,
    max: u32,
    window_secs: u64,
}

/// The origin's count: whether this request is within the limit.
#[derive(Deserialize)]
pub struct Standing {
    pub allowed: bool,
    pub retry_after_secs: u64,
}

/// Counts one request against `key`. `None` when limits are off (no `EDGE_SECRET`) or the
/// counter could not be reached: the request then goes on (the functions keep their own
/// login throttling), and the log line says so.
pub async fn hit(config: &Config, key: &str, rate: Rate) -> Result<Option<Standing>, String> {
    let (Some(secret), Some(origin)) = (&config.secret, config.origin(Function::Login)) else {
        return Ok(None);
    };
    let body = serde_json::to_vec(&Hit {
        key,
        max: rate.max,
        window_secs: rate.window_secs,
    })
    .map_err(|e| e.to_string())?;
    let request = Request::post(format!("{origin}/edge/hits"))
        .header("authorization", format!("Bearer {secret}"))
        .header("content-type", "application/json")
        .body(Body::from(body))
        .map_err(|e| e.to_string())?;
    let mut response = Client::new()
        .send(request)
        .await
        .map_err(|e| format!("rate counter: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("rate counter answered {}", response.status()));
    }
    let standing: Standing = response
        .body_mut()
        .json()
        .await
        .map_err(|e| format!("rate counter: {e}"))?;
    Ok(Some(standing))
}
