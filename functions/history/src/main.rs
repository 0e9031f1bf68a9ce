//! The history function: GET /history.

use rag_api::{Needs, routes, run_function};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run_function(routes::history::router(), Needs::NOTHING).await
}
