//! The query function: POST /query (answers from the warm index); its GET /health/ready says
//! when that index is loaded.

use rag_api::{Needs, routes, run_function};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run_function(routes::query::router(), Needs::ENGINE).await
}
