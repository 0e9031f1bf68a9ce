//! Core of the IT-support RAG assistant: domain logic and adapters, no handler code.

pub mod pdf;
pub mod text;
