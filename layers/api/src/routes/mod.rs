//! One module per handler; each exposes the router its function serves.

pub mod admin;
pub mod auth;
pub mod clusters;
pub mod docs;
#[cfg(feature = "ingest")]
pub mod documents;
pub mod edge;
pub mod feedback;
pub mod health;
pub mod history;
#[cfg(feature = "ingest")]
pub mod index;
pub mod query;
pub mod web;
