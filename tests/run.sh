#!/usr/bin/env bash
# Runs every test of the workspace on this machine: sets up the model files the tests need
# (idempotent, fast when present), builds the web page (npm; every binary embeds it) and
# installs the browser test's packages, checks formatting and lints, builds the edge component, the deployment files
# (template.yaml, workflows, Dockerfile, Kubernetes, compose) and the Lambda packages (which the
# local-invocation test runs), builds the image from the same release binaries and runs the
# stack as containers (tests/containers/e2e.sh), then `cargo test` (whose edge test runs the
# component built by infra/edge/build.sh under `wasmtime serve`).
# With CI=true, tests whose data or services are missing fail instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

layers/model/build.sh models
export RAG_MODEL_DIR="$PWD/models"
layers/web/build.sh
npm ci --silent --no-audit --no-fund --prefix tests/browser

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
infra/edge/build.sh
export RAG_EDGE_WASM="${CARGO_TARGET_DIR:-$PWD/target}/wasm32-wasip2/release/edge.wasm"
infra/lambda/package.sh
infra/check-template.sh --build
infra/container/check.sh
# RAG_CONTAINER_TESTS=0: the workflow runs them in a job of their own (they need root).
if [ "${RAG_CONTAINER_TESTS:-1}" != 0 ]; then
    if command -v podman >/dev/null; then
        infra/container/build.sh
    fi
    tests/containers/e2e.sh
fi
cargo test --workspace --locked
