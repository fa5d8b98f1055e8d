#!/usr/bin/env bash
# key_field and the split-key guard (issue 12, "Tests that must exist"), with the spec of run_exchange_group.sh plus
# `key_field: store_id`:
#   1. a topic keyed by store_id runs WITHOUT an exchange (explain) on 3 members, and Redis equals the offline replay;
#   2. a round-robin topic that the spec claims is keyed by store_id: one member (all 12 partitions) counts every
#      (store, further partition) pair in pipec_split_keys_total — the count the data implies — and exits 0;
#   3. the same with --strict exits non-zero and says why.
#   tests/integration/run_exchange_keyed.sh PIPEC        exit 0 pass, 1 fail, 77 skipped
set -uo pipefail
PIPEC=$(realpath "$1")
cd "$(dirname "$0")/../.."
WORK=$(mktemp -d)
source tests/integration/lib.sh
require_tools redis-server redis-cli python3 curl
START=$SECONDS

JOB=store_order_count_x
FEATURE=store_order_count_x
VALUE=order_count
TOPIC=store_timeline_events
PARTITIONS=12
STORES=200
EVENTS=${EXCHANGE_KEYED_EVENTS:-60000}
SPEC="$WORK/keyed.yaml"
python3 - tests/integration/specs/store_order_count_exchange.yaml "$SPEC" <<'PY'
import sys
text = open(sys.argv[1]).read()
anchor = '            proto_class: "com.doordash.timeline_events.StoreTimelineEvent"\n'
assert anchor in text
open(sys.argv[2], "w").write(text.replace(anchor, anchor + "            key_field: store_id\n", 1))
PY

python3 - "$WORK" "$EVENTS" "$PARTITIONS" "$STORES" <<'PY'
import random, sys, time
work, n, partitions, stores = sys.argv[1], *map(int, sys.argv[2:])
rng = random.Random(1213)
day = 86400000
base = int(time.time() * 1000) // day * day - 2 * day
span = 2 * 3600 * 1000
seen = {}
with open(f"{work}/all.jsonl", "w") as every:
    files = [open(f"{work}/rr-{p:02d}.jsonl", "w") for p in range(partitions)]
    for i in range(n):
        store = 1000 + rng.randrange(stores)
        text = '{"_time": %d, "storeId": "%d", "hasStoreOrderConfirmedData": %s}\n' % (
            base + span * i // n - rng.randrange(15000), store, "true" if rng.random() < 0.4 else "false")
        every.write(text)
        files[i % partitions].write(text)
        seen.setdefault(store, set()).add(i % partitions)
    for f in files:
        f.close()
with open(f"{work}/flush.jsonl", "w") as flush:
    for store in range(1000, 1000 + stores):  # keyed: one per store reaches every store's partition
        flush.write('{"_time": %d, "storeId": "%d"}\n' % (base + day, store))
# Each store counts once per partition it arrives in after its first.
print(sum(len(p) - 1 for p in seen.values()), file=open(f"{work}/split.txt", "w"))
PY

"$PIPEC" run "$SPEC" --env-file pipec.yaml --proto-path schemas --input "$WORK/all.jsonl" --output "$WORK/reference.jsonl" \
  2> "$WORK/reference.log" || { echo "FAIL the offline replay"; cat "$WORK/reference.log"; exit 1; }
last_values "$WORK/reference.jsonl" st "$VALUE" > "$WORK/expected.txt"
"$PIPEC" explain "$SPEC" --env-file pipec.yaml --proto-path schemas > "$WORK/explain.txt" 2>&1
if grep -qi "exchange" "$WORK/explain.txt"; then echo "FAIL a spec keyed by its GROUP BY key got an exchange:"; cat "$WORK/explain.txt"; exit 1
else echo "ok   key_field = the GROUP BY key: no exchange in the plan"; fi

REDIS_PID=""; BROKER_PID=""; RUN_PIDS=()
trap integration_cleanup EXIT
REDIS_PORT=$(free_port)
start_redis "$REDIS_PORT" || exit 1

# --- 1. keyed topic, three members, no exchange ---------------------------------------------------------------------
start_broker "$TOPIC:$PARTITIONS,$(changelog keyed "$JOB" "$PARTITIONS")" || exit 1
declare -a PORTS
for slot in 0 1 2; do
  PORTS[slot]=$(free_port)
  "$PIPEC" run "$SPEC" --env-file pipec.yaml --proto-path schemas --brokers "$BROKERS" --group keyed --sink redis --checkpoint-interval 1000 --idle-timeout 0 \
    --session-timeout 3000 --metrics-port "${PORTS[slot]}" --set "sinks.prod_canary_features.address=127.0.0.1:$REDIS_PORT" \
    > /dev/null 2> "$WORK/member-$slot.log" &
  RUN_PIDS+=($!)
done
wait_for 60 bash -c "grep -q assigned '$WORK/member-0.log' && grep -q assigned '$WORK/member-1.log' && grep -q assigned '$WORK/member-2.log'" ||
  { echo "FAIL the members did not get partitions"; tail -n 5 "$WORK"/member-*.log; exit 1; }
"$PIPEC" produce "$TOPIC" --brokers "$BROKERS" --from "$WORK/all.jsonl" --key store_id \
  --proto-class com.doordash.timeline_events.StoreTimelineEvent > /dev/null 2> "$WORK/produce.log" || { echo "FAIL produce"; exit 1; }
"$PIPEC" produce "$TOPIC" --brokers "$BROKERS" --from "$WORK/flush.jsonl" --key store_id \
  --proto-class com.doordash.timeline_events.StoreTimelineEvent > /dev/null 2>> "$WORK/produce.log" || { echo "FAIL produce"; exit 1; }
features_match() { [ "$(redis_values "$REDIS_PORT" "$FEATURE")" == "$(cat "$WORK/expected.txt")" ]; }
if wait_for 120 features_match; then echo "ok   keyed topic, 3 members, no exchange: Redis equals the offline replay"
else
  echo "FAIL keyed topic: Redis differs from the replay (< redis, > replay)"
  diff <(redis_values "$REDIS_PORT" "$FEATURE") "$WORK/expected.txt" | head; failures=$((failures + 1))
fi
split=0
for slot in 0 1 2; do
  split=$((split + $(curl -sf "http://127.0.0.1:${PORTS[slot]}/metrics" | awk '/^pipec_split_keys_total/ {print $2}')))
done
check "keyed topic: no split key" 0 "$split"
for pid in "${RUN_PIDS[@]}"; do stop_pid "$pid"; done
RUN_PIDS=()
stop_pid "$BROKER_PID"; BROKER_PID=""

# --- 2. and 3. a round-robin topic the spec claims is keyed ----------------------------------------------------------
run_claimed() {  # run_claimed NAME [FLAGS...]: one member over a fresh round-robin topic until its end
  local name=$1; shift
  start_broker "$TOPIC:$PARTITIONS,$(changelog "$name" "$JOB" "$PARTITIONS")" || exit 1
  for p in $(seq 0 $((PARTITIONS - 1))); do
    "$PIPEC" produce "$TOPIC" --brokers "$BROKERS" --from "$WORK/rr-$(printf %02d "$p").jsonl" --partition "$p" \
      --proto-class com.doordash.timeline_events.StoreTimelineEvent > /dev/null 2>> "$WORK/produce.log" || { echo "FAIL produce"; exit 1; }
  done
  "$PIPEC" run "$SPEC" --env-file pipec.yaml --proto-path schemas --brokers "$BROKERS" --group "$name" --sink jsonl --until-end --idle-timeout 0 "$@" \
    > "$WORK/$name.jsonl" 2> "$WORK/$name.log"
  local status=$?
  stop_pid "$BROKER_PID"; BROKER_PID=""
  return $status
}
run_claimed claimed; status=$?
check "a topic not keyed as claimed: the member counts the split keys and exits 0" 0 "$status"
check "pipec_split_keys_total = the (store, further partition) pairs in the data" "$(cat "$WORK/split.txt")" \
  "$(summary_count "$WORK/claimed.log" "split")"
grep -q "error: split key #1: GROUP BY key (store_id=" "$WORK/claimed.log" && echo "ok   the first split key is logged with its key and partitions" ||
  { echo "FAIL no split-key error in the log:"; tail -n 5 "$WORK/claimed.log"; failures=$((failures + 1)); }
run_claimed strict --strict; status=$?
check "with --strict the job stops with exit 1" 1 "$status"
grep -q "arrives in partitions .*(--strict: stopping)" "$WORK/strict.log" && echo "ok   --strict says why it stopped" ||
  { echo "FAIL --strict gave no reason:"; tail -n 5 "$WORK/strict.log"; failures=$((failures + 1)); }

echo "     $((SECONDS - START)) s in all"
[ "$failures" -eq 0 ] && exit 0 || exit 1
