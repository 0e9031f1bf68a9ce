#!/usr/bin/env bash
# Builds every function's Lambda package with cargo-lambda, one cargo invocation per feature
# set (building them together would unify cargo features and link the models into every
# function), checks that login, history and health carry none of ONNX Runtime's bindings, the
# PDF parser or k-means, and prints a table of the zips.
#
#   infra/lambda/package.sh [--arch x86_64|arm64]
#
# Output: $CARGO_TARGET_DIR/lambda/<function>/bootstrap.zip (default target/). cargo-lambda and
# zig come from PyPI into a cached virtualenv (LAMBDA_ENV, default ${TMPDIR:-/tmp}/rag-ci-lambda);
# zig links against the glibc of Amazon Linux 2023, not this machine's.
set -euo pipefail
cd "$(dirname "$0")/../.."

ARCH=x86_64
while [ $# -gt 0 ]; do
    case "$1" in
        --arch) ARCH="${2:?--arch needs x86_64 or arm64}"; shift 2 ;;
        *) echo "usage: $0 [--arch x86_64|arm64]" >&2; exit 2 ;;
    esac
done
case "$ARCH" in
    x86_64) ARCH_FLAG=--x86-64 ;;
    arm64) ARCH_FLAG=--arm64; rustup target add aarch64-unknown-linux-gnu >/dev/null ;;
    *) echo "unknown architecture $ARCH (x86_64 or arm64)" >&2; exit 2 ;;
esac

LAMBDA_ENV="${LAMBDA_ENV:-${TMPDIR:-/tmp}/rag-ci-lambda}"
if [ ! -x "$LAMBDA_ENV/bin/cargo-lambda" ]; then
    python3 -m venv "$LAMBDA_ENV"
    "$LAMBDA_ENV/bin/pip" install -q --disable-pip-version-check cargo-lambda==1.9.2 ziglang==0.17.1
fi
export PATH="$LAMBDA_ENV/bin:$PATH"
TARGET="${CARGO_TARGET_DIR:-target}"

# The light functions share one feature set; each heavy one has its own.
for group in "login history health" query ingest cluster; do
    packages=()
    for f in $group; do packages+=(-p "$f"); done
    cargo lambda build --release --locked "$ARCH_FLAG" --output-format zip "${packages[@]}"
done

# Panic locations name every crate's source path: a crate linked in leaves its name behind.
status=0
for f in login history health; do
    found="$(unzip -p "$TARGET/lambda/$f/bootstrap.zip" bootstrap | grep -a -o -E '/(ort|ort-sys|lopdf|linfa|linfa-clustering|tokenizers)-[0-9][^/]*/' | sort -u || true)"
    if [ -n "$found" ]; then
        echo "error: $f links $(echo "$found" | tr '\n' ' ')" >&2
        status=1
    fi
done

printf '| function | zip | unzipped |\n|---|---:|---:|\n'
for f in login query history health ingest cluster; do
    zip="$TARGET/lambda/$f/bootstrap.zip"
    unzipped="$(unzip -l "$zip" | tail -n 1 | awk '{print $1}')"
    awk -v f="$f" -v z="$(stat -c %s "$zip")" -v u="$unzipped" 'BEGIN { printf "| %s | %.1f MB | %.1f MB |\n", f, z / 1e6, u / 1e6 }'
done
exit "$status"
