//! The login function: POST /auth/login.

use rag_api::{Needs, routes, run_function};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run_function(routes::auth::router(), Needs::NOTHING).await
}
