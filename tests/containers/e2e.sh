#!/usr/bin/env bash
# The stack as containers, end to end: renders the minikube overlay (with the stand-in images,
# tests/containers/overlay), converts it for `podman kube play` (kube_play.py says what and
# why) and plays it in a network namespace of its own, so the stack's ports are its own
# loopback's. Then: the first admin logs in, a PDF put in the bucket is ingested through the
# bucket notification, a question gets a cited answer, history shows it, clustering runs as
# the CronJob runs it, MLflow holds the query's run; the query container is killed and
# restarted and answers the same. Prints image sizes, start -> ready times and memory at rest.
# Tear-down (also on failure) leaves no pod, container or volume of the stack.
#
#   tests/containers/e2e.sh          needs the images of infra/container/build.sh
#
# Without podman it skips, except under CI=true, where it fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO="$PWD"

if ! command -v podman >/dev/null || ! podman image exists localhost/rag:dev; then
    echo "container e2e: podman or localhost/rag:dev missing (infra/container/build.sh)" >&2
    [ "${CI:-}" = true ] && exit 1
    echo "container e2e: SKIPPED" >&2
    exit 0
fi

# PyYAML for the manifests: the container-tools virtualenv that infra/container/check.sh makes.
TOOLS="${CONTAINER_TOOLS_ENV:-${TMPDIR:-/tmp}/rag-ci-container-tools}"
[ -x "$TOOLS/bin/python3" ] && export PATH="$TOOLS/bin:$PATH"

NS="rag-e2e-$$"
WORK="$(mktemp -d)"
inns() { nsenter --net="/var/run/netns/$NS" "$@"; }
fail() {
    echo "container e2e FAILED: $*" >&2
    for c in $(podman ps -a --format '{{.Names}}' | grep -E -- '-pod-0-|^setup-'); do
        echo "--- $c ($(podman inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$c")):" >&2
        podman logs --tail 15 "$c" >&2 2>&1
    done
    exit 1
}

cleanup() {
    set +e
    if [ -f "$WORK/play.yaml" ]; then
        [ -f "$WORK/jobs.yaml" ] && podman kube down "$WORK/jobs.yaml" >/dev/null 2>&1
        podman kube down "$WORK/play.yaml" >/dev/null 2>&1
        for v in $(python3 -c 'import sys, yaml; [print(d["metadata"]["name"]) for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "PersistentVolumeClaim"]' "$WORK/play.yaml"); do
            podman volume rm -f "$v" >/dev/null 2>&1
        done
    fi
    ip netns delete "$NS" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

# Render: a scratch copy of k8s/ with generated secrets and the test overlay beside minikube.
cp -r k8s "$WORK/k8s"
cp -r tests/containers/overlay "$WORK/k8s/overlays/podman-test"
rand() { python3 -c 'import secrets; print(secrets.token_hex(24))'; }
PG_PASSWORD="$(rand)"
ADMIN_PASSWORD="$(rand)"
AWS_SECRET="$(rand)"
cat >"$WORK/k8s/overlays/minikube/secrets.env" <<ENV
JWT_SECRET=$(rand)
POSTGRES_PASSWORD=$PG_PASSWORD
DATABASE_URL=postgres://rag:$PG_PASSWORD@127.0.0.1:5432/rag
AWS_ACCESS_KEY_ID=rag-test
AWS_SECRET_ACCESS_KEY=$AWS_SECRET
INGEST_WEBHOOK_TOKEN=$(rand)
RAG_ADMIN_USERNAME=admin
RAG_ADMIN_PASSWORD=$ADMIN_PASSWORD
ENV
kubectl kustomize "$WORK/k8s/overlays/podman-test" >"$WORK/rendered.yaml"
python3 tests/containers/kube_play.py "$WORK/rendered.yaml" "$WORK/jobs.yaml" "$WORK/cronjob.json" >"$WORK/play.yaml"

ip netns add "$NS"
ip -n "$NS" link set lo up
started=$(date +%s.%N)
inns podman kube play --network host "$WORK/play.yaml" >/dev/null

# Polls URL (inside the namespace) until it answers 2xx; prints the seconds it took.
wait_for() { # URL TIMEOUT_S
    local t0 deadline
    t0=$(date +%s.%N)
    deadline=$(($(date +%s) + $2))
    until inns curl -sf -o /dev/null "$1"; do
        [ "$(date +%s)" -lt "$deadline" ] || fail "$1 not ready after $2 s"
        sleep 0.2
    done
    elapsed "$t0"
}
# Seconds since T0 (a `date +%s.%N`), to a tenth.
elapsed() { python3 -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.1f}')" "$1"; }

declare -A PORT=([login]=8081 [query]=8082 [history]=8083 [health]=8084 [ingest]=8085 [cluster]=8086)
wait_for http://127.0.0.1:5000/health 120 >/dev/null
declare -A READY
for f in login history health ingest cluster; do
    wait_for "http://127.0.0.1:${PORT[$f]}/health/ready" 120 >/dev/null
    READY[$f]="$(elapsed "$started")"
done
# The bucket and its notification, once ingest can confirm the subscription.
inns podman kube play --network host "$WORK/jobs.yaml" >/dev/null
for _ in $(seq 120); do
    state="$(podman inspect --format '{{.State.Status}} {{.State.ExitCode}}' setup-setup 2>/dev/null || true)"
    [ "${state%% *}" = exited ] && break
    sleep 0.5
done
[ "$state" = "exited 0" ] || fail "setup job: $state; $(podman logs setup-setup 2>&1 | tail -5)"

api() { # METHOD PORT PATH [JSON] -> body; fails on non-2xx
    local args=(-sS -f -X "$1" "http://127.0.0.1:$2$3" -H 'Content-Type: application/json')
    [ -n "${TOKEN:-}" ] && args+=(-H "Authorization: Bearer $TOKEN")
    [ $# -ge 4 ] && args+=(--data "$4")
    inns curl "${args[@]}" || fail "$1 $3 on port $2"
}
json() { python3 -c "import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

# An anonymous caller: no question, no document list, no forged bucket event; health only.
status() { inns curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(status -X POST http://127.0.0.1:8082/query -H 'Content-Type: application/json' --data '{"question": "VPN ?"}')" = 401 ] ||
    fail "anonymous question not refused"
[ "$(status http://127.0.0.1:8085/documents)" = 401 ] || fail "anonymous document list not refused"
[ "$(status -X POST http://127.0.0.1:8085/events/s3 -H 'Content-Type: application/json' \
    --data '{"Records": [{"eventName": "ObjectRemoved:Delete", "s3": {"bucket": {"name": "rag-documents"}, "object": {"key": "docs/x.pdf"}}}]}')" = 401 ] ||
    fail "a bucket event without the webhook secret was not refused"
[ "$(status http://127.0.0.1:8081/health/ready)" = 200 ] || fail "login's readiness probe"

# The first administrator, from the Secret.
TOKEN="$(api POST 8081 /auth/login "{\"username\": \"admin\", \"password\": \"$ADMIN_PASSWORD\"}" | json 'd["token"]')"

# A PDF put in the bucket (as an operator would, with the AWS CLI) is ingested through the
# bucket notification.
inns podman run --rm --network host -e AWS_ACCESS_KEY_ID=rag-test -e AWS_SECRET_ACCESS_KEY="$AWS_SECRET" \
    -e AWS_DEFAULT_REGION=us-east-1 -v "$REPO/data/pdf/procedures-support-it.pdf:/in/procedures.pdf:ro" \
    localhost/rag-standin-aws:dev aws --endpoint-url http://127.0.0.1:9000 \
    s3 cp /in/procedures.pdf s3://rag-documents/docs/procedures.pdf >/dev/null
for _ in $(seq 240); do
    api GET 8085 /documents | grep -q '"indexed"' && break
    sleep 0.5
done
api GET 8085 /documents | grep -q '"indexed"' || fail "the PDF was not ingested: $(api GET 8085 /documents)"
wait_for http://127.0.0.1:8082/health/ready 60 >/dev/null
READY[query]="$(elapsed "$started")"

# The admin creates a technician's account; the technician asks.
api POST 8081 /admin/users '{"username": "tech1", "password": "tech1-password", "role": "user"}' >/dev/null
ADMIN_TOKEN="$TOKEN"
TOKEN="$(api POST 8081 /auth/login '{"username": "tech1", "password": "tech1-password"}' | json 'd["token"]')"
QUESTION='{"question": "Comment réinitialiser mon mot de passe ?", "top_k": 3}'
answer="$(api POST 8082 /query "$QUESTION")"
sources="$(echo "$answer" | json 'len(d["sources"])')"
[ "$sources" -gt 0 ] || fail "no cited source: $answer"
echo "$answer" | json 'd["sources"][0]["document"]' | grep -q procedures.pdf || fail "source: $answer"
api GET 8083 /history | grep -q 'réinitialiser' || fail "history lacks the question"
# The web page's routes, each in its function: the page and its policy (health), feedback on the
# answer (history), the cited PDF at its page (ingest).
headers="$(inns curl -sf -D - -o /dev/null http://127.0.0.1:8084/)" || fail "the web page"
grep -qi "^content-security-policy: default-src 'self'" <<<"$headers" || fail "the page's policy: $headers"
query_id="$(echo "$answer" | json 'd["query_id"]')"
api POST 8083 "/queries/$query_id/feedback" '{"useful": true, "comment": "clair"}' >/dev/null
api GET 8083 /history | grep -q '"useful":true' || fail "history lacks the feedback"
cited="$(echo "$answer" | json 'd["sources"][0]["document"] + "?page=" + str(d["sources"][0]["page"])')"
inns curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:8085/documents/$cited" |
    python3 -c 'import sys; sys.exit(sys.stdin.buffer.read()[:5] != b"%PDF-")' || fail "the cited PDF"
TOKEN="$ADMIN_TOKEN"
api GET 8083 /history | grep -q 'réinitialiser' && fail "the admin's history shows the technician's question"

# Clustering as the CronJob runs it (cluster --once), after a few more questions.
for q in "Comment configurer le VPN ?" "Mon imprimante ne marche plus" "Comment changer mon mot de passe Windows ?" \
    "Le wifi ne fonctionne pas" "Accès au VPN impossible depuis chez moi" "Imprimante bloquée, que faire ?"; do
    api POST 8082 /query "{\"question\": \"$q\"}" >/dev/null
done
python3 - "$WORK/cronjob.json" >"$WORK/cron.args" <<'PY'
import json, sys
job = json.load(open(sys.argv[1]))
for e in job["env"]:
    print(f"--env={e['name']}={e['value']}")
PY
mapfile -t CRON_ARGS <"$WORK/cron.args"
inns podman run --rm --network host --read-only --tmpfs /tmp --user 10001:10001 "${CRON_ARGS[@]}" \
    --env-file <(python3 -c 'import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("rag-config"):
        [print(f"{k}={v}") for k, v in d["data"].items()]' "$WORK/rendered.yaml") \
    "$(json 'd["image"]' <"$WORK/cronjob.json")" cluster --once >"$WORK/cluster.out" ||
    fail "cluster --once: $(cat "$WORK/cluster.out")"
api GET 8086 /clusters | grep -q '"clusters"\|"topics"' || fail "no clustering: $(api GET 8086 /clusters)"

# MLflow holds the question's run (tagged with its query id).
experiment="$(inns curl -sf 'http://127.0.0.1:5000/api/2.0/mlflow/experiments/get-by-name?experiment_name=rag' | json 'd["experiment"]["experiment_id"]')"
runs="$(inns curl -sf -X POST http://127.0.0.1:5000/api/2.0/mlflow/runs/search -H 'Content-Type: application/json' \
    --data "{\"experiment_ids\": [\"$experiment\"], \"max_results\": 100}")"
query_id="$(echo "$answer" | json 'd["query_id"]')"
echo "$runs" | json '[t["value"] for r in d["runs"] for t in r["data"]["tags"] if t["key"] == "rag.query_id"]' |
    grep -q "'$query_id'" || fail "no MLflow run for query $query_id: ${runs:0:500}"

# Kill each function's container and start it again (as the kubelet would): each comes back
# ready, and query answers the same from the stored index, with history kept.
first="$(echo "$answer" | json 'd["answer"]')"
declare -A RESTART MEM
for f in login query history health ingest cluster; do
    MEM[$f]="$(podman stats --no-stream --format '{{.MemUsage}}' "$f-pod-0-function" | cut -d/ -f1)"
done
for f in login query history health ingest cluster; do
    podman kill "$f-pod-0-function" >/dev/null
    t0=$(date +%s.%N)
    # podman may restart it by its restart policy (Always, from the Deployment); if not, start
    # it from inside the namespace (a container on the host network joins its starter's).
    sleep 0.5
    [ "$(podman inspect --format '{{.State.Status}}' "$f-pod-0-function")" = running ] ||
        inns podman start "$f-pod-0-function" >/dev/null
    wait_for "http://127.0.0.1:${PORT[$f]}/health/ready" 120 >/dev/null
    RESTART[$f]="$(elapsed "$t0")"
done
TOKEN="$(api POST 8081 /auth/login '{"username": "tech1", "password": "tech1-password"}' | json 'd["token"]')"
again="$(api POST 8082 /query "$QUESTION" | json 'd["answer"]')"
[ "$again" = "$first" ] || fail "after a restart the answer changed: $first / $again"
api GET 8083 /history | grep -q 'réinitialiser' || fail "history lost at the restart"

echo "container e2e: admin, ingestion by notification, cited answer, history, clustering, MLflow run, restarts: OK"
echo "stack: kube play -> all functions ready in ${READY[cluster]} s (PostgreSQL's first start included); query ready at ${READY[query]} s, once the first PDF was ingested"
printf '| function | container start -> ready (s) | memory at rest, after the scenario |\n|---|---:|---:|\n'
for f in login query history health ingest cluster; do
    printf '| %s | %s | %s |\n' "$f" "${RESTART[$f]}" "${MEM[$f]}"
done

# Tear-down leaves nothing of the stack behind.
cleanup
trap - EXIT
left="$(podman ps -a --format '{{.Names}}' | grep -E -- '-pod-0-|^setup-' || true)"
[ -z "$left" ] || fail "containers left after tear-down: $left"
left="$(podman volume ls --format '{{.Name}}' | grep -E '^(data-postgres|objectstore-data|mlflow-data)$' || true)"
[ -z "$left" ] || fail "volumes left after tear-down: $left"
echo "container e2e: tear-down left no container or volume"
