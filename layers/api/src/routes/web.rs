//! GET /, GET /docs, GET /assets/{file}: the web page and the API explorer (rag-web's embedded
//! files), served by the health function and `rag serve`; the edge serves its own copy.

use axum::Router;
use axum::http::{HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::ApiError;
use crate::state::App;

pub fn router() -> Router<App> {
    Router::new()
        .route("/", get(file))
        .route("/docs", get(file))
        .route("/assets/{file}", get(file))
}

async fn file(uri: Uri) -> Response {
    let Some(asset) = rag_web::find(uri.path()) else {
        return ApiError::not_found().into_response();
    };
    let mut response = asset.bytes.into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, asset.content_type),
        (header::CACHE_CONTROL, asset.cache_control()),
        (
            header::CONTENT_SECURITY_POLICY,
            rag_web::CONTENT_SECURITY_POLICY,
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
