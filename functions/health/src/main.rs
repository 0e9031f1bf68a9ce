//! The health function: GET /health (version, store, tracking) and the API's description,
//! GET /openapi.json and GET /docs.

use rag_api::{Needs, routes, run_function};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run_function(routes::docs::router(), Needs::NOTHING).await
}
