#!/usr/bin/env bash
# Builds the edge component (functions/edge, a wasi:http proxy for wasm32-wasip2) after checking
# that the crates it shares with the functions build for that target, and its format and lints.
# Prints the component's path and size: $CARGO_TARGET_DIR (default target/)
# /wasm32-wasip2/release/edge.wasm, where the container build and the tests look for it.
set -euo pipefail
cd "$(dirname "$0")/../.."

rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
cargo check --locked --target wasm32-wasip2 -p rag-contract
cargo fmt --manifest-path functions/edge/Cargo.toml -- --check
target="${CARGO_TARGET_DIR:-$PWD/target}"
edge=(--locked --manifest-path functions/edge/Cargo.toml --target wasm32-wasip2 --target-dir "$target")
cargo clippy "${edge[@]}" -- -D warnings
cargo build --release "${edge[@]}"

wasm="$target/wasm32-wasip2/release/edge.wasm"
echo "edge component: $wasm ($(stat -c %s "$wasm") bytes)"
