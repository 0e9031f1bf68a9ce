#!/usr/bin/env bash
# Runs every test of the workspace on this machine: sets up the model files the tests need
# (idempotent, fast when present), checks formatting and lints, the deployment files
# (template.yaml, workflows) and the Lambda packages (which the local-invocation test runs),
# then `cargo test`.
# With CI=true, tests whose data or services are missing fail instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

layers/model/build.sh models
export RAG_MODEL_DIR="$PWD/models"

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
infra/lambda/package.sh
infra/check-template.sh --build
cargo test --workspace --locked
