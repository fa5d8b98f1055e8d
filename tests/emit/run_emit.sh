#!/usr/bin/env bash
# Tests of `pipec compile` artifacts (run from anywhere):
#   1. golden: every emitted file for the example specs (Kubernetes YAML, Helm chart, Flink) equals tests/emit/expected/
#   2. determinism: compiling twice, and from another working directory, gives identical bytes
#   3. compatibility: --against reports unchanged / compatible / incompatible / new / removed correctly
#   4. the Kubernetes manifests validate offline against the API schemas (npm kubernetes-models)
#   5. smoke: the Deployment's container command, run locally, starts the job from the emitted plan against a
#      `pipec broker` and a redis-server, becomes ready (/readyz) and writes the features
#   tests/emit/run_emit.sh PIPEC [--bless]
set -uo pipefail
PIPEC=$(realpath "$1")
BLESS=${2:-}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
WORK=$(mktemp -d)
source tests/integration/lib.sh
REDIS_PID=""
BROKER_PID=""
JOB_PID=""
cleanup() {
  [ -n "$JOB_PID" ] && kill "$JOB_PID" 2> /dev/null
  [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2> /dev/null
  [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2> /dev/null
  wait 2> /dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

compile() {  # compile OUT ARGS...
  local out=$1
  shift
  "$PIPEC" compile examples --env prod --git-revision test -o "$out" "$@" > "$out.log" 2>&1 || { echo "FAIL pipec compile $*"; cat "$out.log"; exit 1; }
}

# --- 1. golden ------------------------------------------------------------------------------------------------------
compile "$WORK/kubernetes"
compile "$WORK/helm" --format helm --hpa --partitions 8
compile "$WORK/flink" --target flink
for variant in kubernetes helm flink; do
  if [ "$BLESS" = "--bless" ]; then
    rm -rf "tests/emit/expected/$variant"
    mkdir -p tests/emit/expected
    cp -r "$WORK/$variant" "tests/emit/expected/$variant"
  elif diff -r "tests/emit/expected/$variant" "$WORK/$variant" > "$WORK/diff.txt"; then
    echo "ok   golden $variant artifacts"
  else
    echo "FAIL golden $variant artifacts differ (rerun with --bless after review):"
    head -40 "$WORK/diff.txt"
    failures=$((failures + 1))
  fi
done
[ "$BLESS" = "--bless" ] && { echo "blessed"; exit 0; }
# A job with a repartition exchange (consumer_session_count: its topic is keyed by store) runs as two Deployments,
# `--stage 1` and `--stage 2`; a job keyed by key_field (store_order_count) as one, without --stage.
stages_of() {  # stages_of MANIFEST → "NAME:STAGE" per Deployment
  python3 - "$1" <<'PY'
import sys
documents = open(sys.argv[1]).read().split("---\n")
for document in documents:
    if 'kind: "Deployment"' not in document:
        continue
    name = document.split('  name: "', 1)[1].split('"', 1)[0]
    lines = document.split("\n")
    stage = "-"
    for i, line in enumerate(lines):
        if line.strip() == '- "--stage"':
            stage = lines[i + 1].strip().strip('-').strip().strip('"')
    print(f"{name}:{stage}")
PY
}
check "an exchange gives two Deployments, --stage 1 and --stage 2" \
  "pipec-consumer-session-activity-stage1:1 pipec-consumer-session-activity-stage2:2" \
  "$(stages_of "$WORK/kubernetes/consumer_session_activity/kubernetes.yaml" | tr '\n' ' ' | sed 's/ $//')"
check "no exchange: one Deployment without --stage" "pipec-canary-store-order-count:-" \
  "$(stages_of "$WORK/kubernetes/canary_store_order_count/kubernetes.yaml" | tr '\n' ' ' | sed 's/ $//')"
check "Helm values: replicas per stage with an exchange" "2" "$(grep -c '^stage[12]:' "$WORK/helm/consumer_session_activity/chart/values.yaml")"
grep -q "W0601" "$WORK/flink.log" && echo "ok   flink target warns about what it cannot express" || { echo "FAIL no W0601 warnings"; failures=$((failures + 1)); }

# --- 2. determinism -------------------------------------------------------------------------------------------------
compile "$WORK/again"
(cd "$WORK" && "$PIPEC" compile "$REPO/examples" --env prod --git-revision test -o "$WORK/elsewhere" > /dev/null 2>&1)
if diff -r "$WORK/kubernetes" "$WORK/again" > /dev/null && diff -r "$WORK/kubernetes" "$WORK/elsewhere" > /dev/null; then
  echo "ok   identical bytes when compiled twice and from another directory"
else
  echo "FAIL artifacts are not deterministic"; diff -r "$WORK/kubernetes" "$WORK/elsewhere" | head -20; failures=$((failures + 1))
fi

# --- 3. compatibility -----------------------------------------------------------------------------------------------
mkdir -p "$WORK/changed"
sed 's/HAVING COUNT(\*) >= 1/HAVING COUNT(*) >= 2/' examples/delivery_wait_avg.yaml > "$WORK/changed/delivery_wait_avg.yaml"
sed "s/INTERVAL '20' MINUTES/INTERVAL '30' MINUTES/" examples/store_order_count.yaml > "$WORK/changed/store_order_count.yaml"
sed 's/consumer_session_activity/consumer_session_activity_v2/' examples/consumer_session_count.yaml > "$WORK/changed/consumer_session_count.yaml"
"$PIPEC" compile "$WORK/changed" --env prod --env-file pipec.yaml --proto-path schemas --git-revision test -o "$WORK/next" \
  --against "$WORK/kubernetes" > "$WORK/against.txt" 2>&1
verdict() { sed -n "s/^$1  *\\(.*\\)$/\\1/p" "$WORK/against.txt"; }
check "HAVING change keeps state" "compatible: same keys, window and aggregates; changed HAVING" "$(verdict store_delivery_wait)"
check "window change needs a fresh start" "incompatible: the group window changed — requires a fresh start / back-fill" "$(verdict canary_store_order_count)"
check "new job" "new" "$(verdict consumer_session_activity_v2)"
check "removed job" "removed" "$(verdict consumer_session_activity)"
grep -q '"fresh_start": true' "$WORK/next/compatibility.json" && echo "ok   compatibility.json written" || { echo "FAIL compatibility.json"; failures=$((failures + 1)); }
# The repartition exchange: added (key_field dropped), removed (key_field declared), and its row format changed (a
# filter on order_id shifts the pruned column numbers of the columns stage 2 reads).
mkdir -p "$WORK/exchange" "$WORK/row_format"
grep -v 'key_field:' examples/store_order_count.yaml > "$WORK/exchange/store_order_count.yaml"
sed 's/^\(            proto_class: .*\)$/\1\n            key_field: consumer_id/' examples/consumer_session_count.yaml > "$WORK/exchange/consumer_session_count.yaml"
sed "s/WHERE consumer_id <> 0/WHERE consumer_id <> 0 AND order_id <> ''/" examples/consumer_session_count.yaml > "$WORK/row_format/consumer_session_count.yaml"
for variant in exchange row_format; do
  "$PIPEC" compile "$WORK/$variant" --env prod --env-file pipec.yaml --proto-path schemas --git-revision test -o "$WORK/$variant-out" \
    --against "$WORK/kubernetes" > "$WORK/against.txt" 2>&1
  case $variant in
    exchange)
      check "an exchange added is incompatible" \
        "incompatible: a repartition exchange was added (the topic's key (key_field not declared) is not the GROUP BY key store_id) — requires a fresh start / back-fill" \
        "$(verdict canary_store_order_count)"
      check "an exchange removed is incompatible" \
        "incompatible: the repartition exchange was removed (stage 2's state is partitioned by the GROUP BY key, not like the source topic) — requires a fresh start / back-fill" \
        "$(verdict consumer_session_activity)" ;;
    row_format)
      check "a changed row format of the repartition topic is incompatible" "incompatible: the repartition topic's row format changed" \
        "$(verdict consumer_session_activity | sed 's/ (.*//')" ;;
  esac
done

# --- 4. offline validation against the Kubernetes API schemas ---------------------------------------------------------
if command -v node > /dev/null && command -v npm > /dev/null; then
  if [ ! -d tests/emit/validator/node_modules/kubernetes-models ]; then
    (cd tests/emit/validator && npm ci --no-audit --no-fund --silent > "$WORK/npm.log" 2>&1)
  fi
  if [ -d tests/emit/validator/node_modules/kubernetes-models ]; then
    compile "$WORK/hpa" --hpa --partitions 8
    node tests/emit/validator/validate.mjs "$WORK"/kubernetes/*/kubernetes.yaml "$WORK"/hpa/*/kubernetes.yaml || failures=$((failures + 1))
  else
    echo "skip offline validation: npm could not install kubernetes-models (no registry access?)"
    cat "$WORK/npm.log" | tail -3
  fi
else
  echo "skip offline validation: node/npm not installed"
fi

# --- 5. smoke: the Deployment's command starts the job from the emitted plan ----------------------------------------
if command -v redis-server > /dev/null; then
  REDIS_PORT=$(free_port)
  METRICS_PORT=$(free_port)
  start_redis "$REDIS_PORT" || exit 1
  start_broker "store_timeline_events:2,$(changelog pipec-canary-store-order-count canary_store_order_count 2)" || exit 1
  "$PIPEC" compile examples/store_order_count.yaml --env local --set "clusters.default.bootstrap_servers=$BROKERS" \
    --set "sinks.prod_canary_features.address=127.0.0.1:$REDIS_PORT" -o "$WORK/local" > /dev/null 2>&1
  manifest="$WORK/local/canary_store_order_count/kubernetes.yaml"
  # The container command from the Deployment, with the mounted plan path pointing at the emitted file.
  mapfile -t command < <(python3 - "$manifest" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
start = lines.index("        command:")
for line in lines[start + 1:]:
    if not line.startswith("        - "):
        break
    print(line[len("        - "):].strip('"'))
PY
)
  check "container command starts with pipec run --plan" "pipec run --plan" "${command[*]:0:3}"
  command=("${command[@]/\/etc\/pipec\/plan.pb/$WORK/local/canary_store_order_count/plan.pb}")
  command[0]=$PIPEC
  command=("${command[@]/9102/$METRICS_PORT}")
  # A partition silent since its assignment counts as idle after --idle-timeout; with 1 s, a loaded machine (ctest -j2)
  # took longer than that to produce the sample, one partition's far-future flush event then set the watermark alone
  # and all 240 sample events of the other partition were late (seen once from a clean clone).
  "${command[@]}" --session-timeout 3000 --idle-timeout 10000 > "$WORK/job.out" 2> "$WORK/job.err" &
  JOB_PID=$!
  if wait_for 30 bash -c "curl -sf http://127.0.0.1:$METRICS_PORT/readyz > /dev/null"; then
    echo "ok   the job from the emitted plan is ready (/readyz)"
  else
    echo "FAIL /readyz never answered 200"; cat "$WORK/job.err"; failures=$((failures + 1))
  fi
  "$PIPEC" produce examples/store_order_count.yaml --brokers "$BROKERS" --from examples/data/store_timeline_events.jsonl --key store_id > /dev/null 2>&1
  # Advance the watermark past the sample's windows with one far-future event per partition key.
  for store in 101 102 103 104; do
    echo "{\"_time\": \"2026-01-02T00:00:00.000Z\", \"storeId\": \"$store\"}"
  done > "$WORK/flush.jsonl"
  "$PIPEC" produce examples/store_order_count.yaml --brokers "$BROKERS" --from "$WORK/flush.jsonl" --key store_id > /dev/null 2>&1
  if wait_for 30 bash -c "[ \$(redis-cli -p $REDIS_PORT dbsize) -ge 4 ]"; then
    echo "ok   the job wrote features ($(redis-cli -p "$REDIS_PORT" dbsize) keys)"
  else
    echo "FAIL no features written by the deployed command"; cat "$WORK/job.err"; failures=$((failures + 1))
  fi
  # Into a file first: `curl | grep -q` fails under pipefail when grep stops reading early (curl gets SIGPIPE).
  curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" > "$WORK/metrics.txt" && grep -q "pipec_" "$WORK/metrics.txt" &&
    echo "ok   /metrics serves Prometheus text" || { echo "FAIL /metrics"; failures=$((failures + 1)); }
  kill -TERM "$JOB_PID"
  status=0
  wait "$JOB_PID" || status=$?
  JOB_PID=""
  check "the job stops cleanly" 0 "$status"
else
  echo "skip smoke test: redis-server not installed"
fi

echo "emit: $failures failure(s)"
[ "$failures" = 0 ]
