#!/usr/bin/env bash
# Tests of `pipec compile --proxy` (the Kubernetes manifests of `pipec proxy`), run from anywhere:
#   1. golden: proxy/kubernetes.yaml and proxy/digest for the example specs equal tests/emit/expected/proxy/
#   2. determinism, and the digest follows what the proxy serves: a query change keeps it, a topic change changes it
#   3. the manifests validate offline against the Kubernetes API schemas (npm kubernetes-models) and hold what a
#      deployment needs (tests/emit/validator/check_proxy.mjs): probes on /readyz and /healthz, API keys from a
#      Secret only, resource requests, an autoscaler on CPU bounded as asked
#   4. usage errors for contradicting settings
#   5. smoke: the Deployment's command, run locally with the plans decoded from the ConfigMap and the API keys in
#      $PIPEC_PROXY_API_KEYS as the Secret gives them, against `pipec broker`: ready after the canary, 401 without a
#      key, 200 with one, and the record on the topic
#   tests/emit/run_emit_proxy.sh PIPEC [--bless]
set -uo pipefail
PIPEC=$(realpath "$1")
BLESS=${2:-}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
WORK=$(mktemp -d)
source tests/integration/lib.sh
REDIS_PID=""; BROKER_PID=""; RUN_PIDS=()
trap integration_cleanup EXIT
EXPECTED=tests/emit/expected/proxy

compile() {  # compile OUT SPECS ARGS...
  local out=$1 specs=$2
  shift 2
  "$PIPEC" compile "$specs" --env prod --env-file "$REPO/pipec.yaml" --proto-path "$REPO/schemas" --git-revision test \
    -o "$out" --proxy "$@" > "$out.log" 2>&1 || { echo "FAIL pipec compile --proxy $*"; cat "$out.log"; exit 1; }
}

# --- 1. golden ------------------------------------------------------------------------------------------------------
compile "$WORK/out" examples --proxy-canary-topic proxy_canary
if [ "$BLESS" = "--bless" ]; then
  rm -rf "$EXPECTED"
  cp -r "$WORK/out/proxy" "$EXPECTED"
  echo "blessed"
  exit 0
fi
if diff -r "$EXPECTED" "$WORK/out/proxy" > "$WORK/diff.txt"; then
  echo "ok   golden proxy manifests"
else
  echo "FAIL golden proxy manifests differ (rerun with --bless after review):"
  head -40 "$WORK/diff.txt"
  failures=$((failures + 1))
fi
check "compile prints the proxy line" 1 "$(grep -c "^proxy: $WORK/out/proxy/ (kubernetes.yaml, 3 plan(s)) digest " "$WORK/out.log")"

# --- 2. determinism and what the digest follows -----------------------------------------------------------------------
(cd "$WORK" && compile "$WORK/elsewhere" "$REPO/examples" --proxy-canary-topic proxy_canary)
check "identical bytes when compiled from another directory" "" "$(diff -r "$WORK/out/proxy" "$WORK/elsewhere/proxy")"
mkdir -p "$WORK/base" "$WORK/query" "$WORK/topic"
cp examples/*.yaml "$WORK/base/"
cp examples/*.yaml "$WORK/query/"
cp examples/*.yaml "$WORK/topic/"
sed -i 's/HAVING COUNT(\*) >= 1/HAVING COUNT(*) >= 2/' "$WORK/query/delivery_wait_avg.yaml"
sed -i 's/store_timeline_events/store_timeline_events_v2/' "$WORK/topic/consumer_session_count.yaml"
compile "$WORK/base_out" "$WORK/base" --proxy-canary-topic proxy_canary
compile "$WORK/query_out" "$WORK/query" --proxy-canary-topic proxy_canary
compile "$WORK/topic_out" "$WORK/topic" --proxy-canary-topic proxy_canary
check "a query change keeps the proxy's digest (its pods do not roll)" "$(cat "$WORK/base_out/proxy/digest")" "$(cat "$WORK/query_out/proxy/digest")"
if [ "$(cat "$WORK/base_out/proxy/digest")" != "$(cat "$WORK/topic_out/proxy/digest")" ]; then
  echo "ok   a topic change changes the proxy's digest"
else
  echo "FAIL a topic change left the proxy's digest unchanged"; failures=$((failures + 1))
fi

# --- 3. offline validation ------------------------------------------------------------------------------------------
if command -v node > /dev/null && command -v npm > /dev/null; then
  if [ ! -d tests/emit/validator/node_modules/kubernetes-models ]; then
    (cd tests/emit/validator && npm install --no-audit --no-fund --silent > "$WORK/npm.log" 2>&1)
  fi
  if [ -d tests/emit/validator/node_modules/kubernetes-models ]; then
    compile "$WORK/bounded" examples --proxy-replicas 3 --proxy-max-replicas 7 --proxy-api-keys-secret edge-keys --proxy-cpu 2 --proxy-memory 1Gi
    node tests/emit/validator/validate.mjs "$WORK/out/proxy/kubernetes.yaml" "$WORK/bounded/proxy/kubernetes.yaml" || failures=$((failures + 1))
    node tests/emit/validator/check_proxy.mjs "$WORK/out/proxy/kubernetes.yaml" 2 10 pipec-proxy-api-keys || failures=$((failures + 1))
    node tests/emit/validator/check_proxy.mjs "$WORK/bounded/proxy/kubernetes.yaml" 3 7 edge-keys || failures=$((failures + 1))
  else
    echo "skip offline validation: npm could not install kubernetes-models (no registry access?)"
    tail -3 "$WORK/npm.log"
  fi
else
  echo "skip offline validation: node/npm not installed"
fi

# --- 4. usage errors ------------------------------------------------------------------------------------------------
usage() {  # usage DESCRIPTION EXPECTED_TEXT ARGS...
  local description=$1 text=$2
  shift 2
  "$PIPEC" compile examples --env prod -o "$WORK/usage" --proxy "$@" > /dev/null 2> "$WORK/usage.err"
  local status=$?
  if [ "$status" = 2 ] && grep -qF -- "$text" "$WORK/usage.err"; then
    echo "ok   $description: exit 2"
  else
    echo "FAIL $description: expected exit 2 saying '$text', got $status: $(head -3 "$WORK/usage.err")"
    failures=$((failures + 1))
  fi
}
usage "more pods at least than at most" "is more than --proxy-max-replicas 2" --proxy-replicas 5 --proxy-max-replicas 2
usage "a malformed CPU quantity" "is not a CPU quantity" --proxy-cpu 2cores
usage "a malformed Secret name" "is not a Kubernetes object name" --proxy-api-keys-secret Bad_Name

# --- 5. smoke: the Deployment's command serves -----------------------------------------------------------------------
if command -v kcat > /dev/null && command -v curl > /dev/null; then
  start_broker "store_timeline_events:1,proxy_canary:1" || exit 1
  "$PIPEC" compile examples --env local --set "clusters.default.bootstrap_servers=$BROKERS" --git-revision test \
    -o "$WORK/local" --proxy --proxy-canary-topic proxy_canary > "$WORK/local.log" 2>&1 || { echo "FAIL compile for the smoke test"; cat "$WORK/local.log"; exit 1; }
  PORT=$(free_port)
  mkdir -p "$WORK/plans"
  # The ConfigMap's plans as the volume mounts them, and the container command pointed at them.
  mapfile -t command < <(python3 - "$WORK/local/proxy/kubernetes.yaml" "$WORK/plans" "$PORT" <<'PY'
import base64, sys
manifest, plans, port = sys.argv[1], sys.argv[2], sys.argv[3]
lines = open(manifest).read().split("\n")
start = lines.index("binaryData:")
for line in lines[start + 1:]:
    if not line.startswith("  "):
        break
    key, value = line.strip().split(": ", 1)
    open(f"{plans}/{key}", "wb").write(base64.b64decode(value.strip('"')))
start = lines.index("        command:")
for line in lines[start + 1:]:
    if not line.startswith("        - "):
        break
    part = line[len("        - "):].strip('"').replace("/etc/pipec-proxy/plans", plans)
    print(part.replace("0.0.0.0:8082", f"127.0.0.1:{port}"))
PY
)
  check "the container command is pipec proxy --plan …" "pipec proxy --plan" "${command[*]:0:3}"
  command[0]=$PIPEC
  KEY=smoke-test-key-0123456789
  PIPEC_PROXY_API_KEYS="[{name: smoke, key: $KEY, topics: ['*']}]" "${command[@]}" > "$WORK/proxy.out" 2> "$WORK/proxy.err" &
  RUN_PIDS+=($!)
  URL="http://127.0.0.1:$PORT"
  if wait_for 30 curl -sf "$URL/readyz" -o /dev/null; then
    echo "ok   the deployed command becomes ready (/readyz: metadata and the canary)"
  else
    echo "FAIL /readyz never answered 200"; tail -5 "$WORK/proxy.err"; failures=$((failures + 1))
  fi
  RECORD='{"key": {"type": "STRING", "data": "101"}, "value": {"data": {"storeId": "101", "hasStoreOrderConfirmedData": true}}}'
  RECORDS_PATH=/v3/clusters/default/topics/store_timeline_events/records
  check "without a key: 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d "$RECORD" "$URL$RECORDS_PATH")"
  check "with the Secret's key: 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -H "Authorization: Bearer $KEY" -d "$RECORD" "$URL$RECORDS_PATH")"
  check "the record is on the topic, from the key's client" "101 event-source=smoke" \
    "$(kcat -C -b "$BROKERS" -t store_timeline_events -o 0 -c 1 -e -q -f '%k %h' 2> /dev/null | sed 's/ event-created-at=[0-9]*,/ /; s/,event-encoding.*//')"
else
  echo "skip smoke test: kcat/curl not installed"
fi

echo "emit proxy: $failures failure(s)"
[ "$failures" = 0 ]
