//! The query function: POST /query (answers from the warm index), plus GET /health.

use rag_api::{Needs, routes, run_function};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run_function(
        routes::query::router().merge(routes::health::router()),
        Needs::ENGINE,
    )
    .await
}
