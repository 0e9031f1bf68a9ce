//! One module per handler; each exposes the router its function serves.

pub mod admin;
pub mod auth;
pub mod clusters;
pub mod docs;
#[cfg(feature = "ingest")]
pub mod documents;
pub mod edge;
pub mod health;
pub mod history;
pub mod query;
