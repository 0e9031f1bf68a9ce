#!/usr/bin/env bash
# Sets everything up on a fresh machine and runs the main job on the bundled sample:
# model + ONNX Runtime (layers/model/build.sh), release build, ingest data/pdf, one question.
# Everything stays local (./models, ./data); no cloud service is used.
set -euo pipefail
cd "$(dirname "$0")/.."

layers/model/build.sh models
layers/web/build.sh
cargo build --release --locked --bin rag
RAG=target/release/rag
$RAG ingest data/pdf
$RAG ask "${1:-Comment réinitialiser mon mot de passe ?}"
