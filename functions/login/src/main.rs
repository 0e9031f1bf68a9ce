//! The login function: POST /auth/login, the public keys that check its tokens
//! (/.well-known/jwks.json), the edge tier's rate counters (/edge/hits), and the accounts it
//! checks: /admin/users (create, activate, deactivate, promote) and /admin/audit.

use rag_api::{Needs, routes, run_function};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    run_function(
        routes::auth::router()
            .merge(routes::edge::router())
            .merge(routes::admin::router()),
        Needs::SIGN,
    )
    .await
}
