//! Core of the IT-support RAG assistant: domain logic and adapters, no handler code.
//!
//! - [`pdf`] extracts page text; [`chunk`] cuts it into token-bounded passages;
//! - [`embed`] turns passages and questions into vectors; [`index`] searches them (HNSW + BM25);
//! - [`ingest`] builds a collection's index, [`collection`] publishes and loads its versions
//!   through an [`objects::ObjectStore`];
//! - [`query`] answers a question with [`answer`]'s extractive answerer, [`generate`] with an
//!   LLM; [`assistant`] runs both for the service and records the history; [`eval`] scores
//!   retrieval on a question set; [`cluster`] groups the questions asked by topic;
//! - [`history`] searches a user's questions; [`feedback`] keeps their verdicts on answers;
//! - [`secrets`] reads the deployment's secrets from Parameter Store;
//! - [`track`] logs runs (queries, ingests, clusterings, index versions) to MLflow in the
//!   background.

pub mod accounts;
pub mod answer;
pub mod assistant;
pub mod audit;
mod aws;
pub mod chunk;
pub mod cluster;
pub mod collection;
pub mod dates;
#[cfg(feature = "pdf")]
pub mod documents;
pub mod embed;
pub mod eval;
pub mod feedback;
pub mod generate;
pub mod history;
pub mod index;
#[cfg(feature = "pdf")]
pub mod ingest;
pub mod live;
pub mod objects;
pub mod pdf;
pub mod query;
pub mod rate;
pub mod secrets;
pub mod signing_key;
pub mod store;
pub mod text;
pub mod throttle;
pub mod track;
#[cfg(feature = "pdf")]
pub mod update;
