//! One module per subcommand.

pub mod ask;
pub mod bench;
pub mod cold_start;
pub mod eval;
pub mod index;
pub mod ingest;
pub mod keys;
pub mod search;
pub mod serve;
pub mod user;
