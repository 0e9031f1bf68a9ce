//! The contract between the edge tier and the functions. Both sides compile these same
//! definitions (the edge for `wasm32-wasip2`, so nothing here may pull in tokio, ort, a database
//! driver or the AWS SDK): the edge cannot accept a question the query function would refuse,
//! nor answer with another error shape or code.

pub mod envelope;
pub mod limits;
pub mod request;
pub mod routes;
pub mod token;

pub use envelope::{ErrorBody, ErrorDetail};
pub use request::{LoginRequest, QueryRequest, RequestError};
pub use token::{Claims, Role, TokenError, Verifier};
