# syntax=docker/dockerfile:1
# One image for every function: the six binaries share the base and the model layer, so a node
# pulls one image once and each Deployment picks its binary with `command`.
#
#   docker build -t rag .                         builds everything from source (needs the
#                                                 internet: crates.io and PyPI)
#   infra/container/build.sh                      here: binaries and models built on the host,
#                                                 copied in (BINARIES=prebuilt, MODELS=prebuilt)
ARG BASE=debian:bookworm-slim
ARG BINARIES=build
ARG MODELS=model-build

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# One cargo call per feature set, as infra/lambda/package.sh does: built together, cargo would
# unify features and link the models' runtime into every function.
RUN cargo build --release --locked -p login -p history -p health \
    && cargo build --release --locked -p query \
    && cargo build --release --locked -p ingest \
    && cargo build --release --locked -p cluster \
    && mkdir -p /out/bin \
    && cp target/release/login target/release/query target/release/history \
          target/release/health target/release/ingest target/release/cluster /out/bin/

FROM python:3.11-bookworm AS model-build
WORKDIR /src
COPY layers/model layers/model
RUN layers/model/build.sh layer --arch x86_64 /out \
    && mkdir -p /out/opt \
    && python3 -m zipfile -e /out/model-layer-x86_64.zip /out/opt

# Host-built inputs, staged by infra/container/build.sh into target/container/.
FROM scratch AS prebuilt
COPY target/container/bin/ /out/bin/

FROM scratch AS prebuilt-models
COPY target/container/opt/ /out/opt/

FROM ${BINARIES} AS binaries
FROM ${MODELS} AS models

FROM ${BASE} AS runtime
# The models change less often than the code: their layer comes first and stays cached.
COPY --from=models /out/opt/models/ /opt/models/
COPY --from=binaries /out/bin/ /usr/local/bin/
ENV RAG_MODEL_DIR=/opt/models \
    RAG_DATA_DIR=/tmp/rag \
    RAG_LOG_FORMAT=json \
    PORT=8080
USER 10001:10001
EXPOSE 8080
CMD ["health"]
