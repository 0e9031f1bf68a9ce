//! Shared by the workspace's integration tests (included with `#[path]`): where the test data
//! lives, and the rule for missing data — skip on a developer machine, fail under CI.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|p| p.join("Cargo.lock").exists())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// `../shared/corpus` beside the checkout, or `$RAG_CORPUS_DIR`.
pub fn corpus_dir() -> PathBuf {
    std::env::var_os("RAG_CORPUS_DIR")
        .map_or_else(|| repo_root().join("../shared/corpus"), PathBuf::from)
}

/// The model directory: `$RAG_MODEL_DIR`, else `models/` in the repository.
pub fn model_dir() -> PathBuf {
    std::env::var_os("RAG_MODEL_DIR").map_or_else(|| repo_root().join("models"), PathBuf::from)
}

/// True when `path` exists. Otherwise: under CI (CI=true) the test fails, elsewhere it prints
/// why it is skipped and returns false.
pub fn available(path: &Path, what: &str) -> bool {
    if path.exists() {
        return true;
    }
    let message = format!("{what} not found at {}", path.display());
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{message}: required under CI");
    }
    eprintln!("SKIPPED: {message}");
    false
}
