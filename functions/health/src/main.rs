//! The health function: GET /health.

use rag_api::{Needs, routes, run_function};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run_function(routes::health::router(), Needs::NOTHING).await
}
