#!/usr/bin/env bash
# Builds the image `localhost/rag:dev` from the binaries in infra/lambda/package.sh's zips (one
# release build feeds the Lambda zips and the image) and the model layer of
# layers/model/build.sh, then the stand-in images the container test runs in place of
# postgres, MinIO + aws-cli and MLflow (see tests/containers/).
#
#   infra/container/build.sh [--no-standins]
#
# Env: ENGINE (podman or docker, default podman); BASE (default localhost/debian:bookworm-local,
# made here from Debian's packages with mmdebstrap when missing, since no registry is
# reachable; debian:bookworm-slim or a distroless cc image elsewhere); CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."

ENGINE="${ENGINE:-podman}"
BASE="${BASE:-localhost/debian:bookworm-local}"
TARGET="${CARGO_TARGET_DIR:-target}"
STANDINS=1
[ "${1:-}" = "--no-standins" ] && STANDINS=0

if [ "$BASE" = localhost/debian:bookworm-local ] && ! "$ENGINE" image exists "$BASE"; then
    rootfs="$(mktemp -d)"
    mmdebstrap --quiet --variant=minbase --include=ca-certificates bookworm "$rootfs/rootfs.tar"
    "$ENGINE" import --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
        "$rootfs/rootfs.tar" "$BASE" >/dev/null
    rm -rf "$rootfs"
fi

# The build context takes only target/container/ from target/ (.dockerignore).
stage=target/container
rm -rf "$stage"
mkdir -p "$stage/bin" "$stage/opt"
# The binaries are the Lambda packages' own (`sam build` may move cargo's copies away).
for f in login query history health ingest cluster; do
    zip="$TARGET/lambda/$f/bootstrap.zip"
    [ -f "$zip" ] || { echo "missing $zip: run infra/lambda/package.sh first" >&2; exit 1; }
    unzip -p "$zip" bootstrap >"$stage/bin/$f"
    chmod 755 "$stage/bin/$f"
done
layers/model/build.sh layer --arch x86_64 "$TARGET/lambda/layers" >/dev/null
python3 -m zipfile -e "$TARGET/lambda/layers/model-layer-x86_64.zip" "$stage/opt"

"$ENGINE" build --quiet --build-arg BASE="$BASE" --build-arg BINARIES=prebuilt \
    --build-arg MODELS=prebuilt-models -t localhost/rag:dev . >/dev/null

# The edge: the component infra/edge/build.sh made, served by the wasmtime CLI ($WASMTIME or
# the one on PATH).
edge_wasm="$TARGET/wasm32-wasip2/release/edge.wasm"
wasmtime_bin="${WASMTIME:-$(command -v wasmtime || true)}"
if [ -f "$edge_wasm" ] && [ -x "$wasmtime_bin" ]; then
    mkdir -p "$stage/edge"
    cp "$edge_wasm" "$stage/edge/edge.wasm"
    cp "$wasmtime_bin" "$stage/edge/wasmtime"
    "$ENGINE" build --quiet --build-arg BASE="$BASE" -f infra/edge/Containerfile \
        -t localhost/rag-edge:dev "$stage/edge" >/dev/null
else
    echo "edge image skipped: needs $edge_wasm (infra/edge/build.sh) and wasmtime" >&2
fi

if [ "$STANDINS" = 1 ]; then
    # The builds reach Debian's mirror and PyPI; pip trusts the host's CA bundle (which may
    # hold a proxy's CA), mounted for the build only.
    for s in postgres aws mlflow; do
        "$ENGINE" build --quiet --network=host \
            --volume /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro \
            --build-arg BASE="$BASE" -f "infra/container/standins/$s.Containerfile" \
            -t "localhost/rag-standin-$s:dev" infra/container/standins >/dev/null
    done
fi

printf '| image | size |\n|---|---:|\n'
for image in localhost/rag:dev localhost/rag-edge:dev localhost/rag-standin-postgres:dev localhost/rag-standin-aws:dev localhost/rag-standin-mlflow:dev; do
    "$ENGINE" image exists "$image" || continue
    "$ENGINE" image inspect --format '{{.Size}}' "$image" |
        awk -v i="$image" '{ printf "| %s | %.0f MB |\n", i, $1 / 1e6 }'
done
