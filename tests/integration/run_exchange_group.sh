#!/usr/bin/env bash
# The repartition exchange (issue 12, "Tests that must exist"): a ROUND-ROBIN topic (not keyed by the GROUP BY key),
# 12 partitions, 3 `pipec run` members, each running both stages, the seed feature per store (HOP 20 s / 20 min) with a
# 30 s watermark delay into a real redis-server. The events come in time order with rows out of order within the delay
# (late under no interleaving of the partitions), and after the group's watermark passed them, rows late by far more
# than the delay (late under every interleaving). Checks:
#   - after the drain, every Redis key equals the offline replay of the same events (`pipec run --input`);
#   - the members dropped exactly the far-late rows as late, as the replay did;
#   - (without kills) every window was emitted exactly once over the whole group: rows out = the replay's rows;
#   - with EXCHANGE_KILLS=N (>= 10 in CI's kill test): a random member is SIGKILLed and restarted N times while the
#     events are produced; Redis still equals the replay, the restarted stage-1 tasks' re-produced rows were dropped
#     by stage 2 (pipec_exchange_duplicates_total), and Redis never served a window older than one it had served;
#   - every member that was not killed exits 0.
# Printed: events/s through the group, bytes per event on the repartition topic, duplicates dropped.
#   tests/integration/run_exchange_group.sh PIPEC        exit 0 pass, 1 fail, 77 skipped
#   EXCHANGE_EVENTS (default 500000), EXCHANGE_KILLS (default 0), EXCHANGE_SEED; KEEP_WORK=1 keeps the logs.
set -uo pipefail
PIPEC=$(realpath "$1")
cd "$(dirname "$0")/../.."
WORK=$(mktemp -d)
source tests/integration/lib.sh
require_tools redis-server redis-cli python3 curl kcat
START=$SECONDS

SPEC=tests/integration/specs/store_order_count_exchange.yaml
JOB=store_order_count_x
FEATURE=store_order_count_x
VALUE=order_count
TOPIC=store_timeline_events
GROUP=exchange
PARTITIONS=12
STORES=200
EVENTS=${EXCHANGE_EVENTS:-500000}
KILLS=${EXCHANGE_KILLS:-0}
LATE=300                          # rows late by far more than the delay, produced once the watermark passed them
CHUNKS=40
SEED=${EXCHANGE_SEED:-$((RANDOM * 32768 + RANDOM))}
# Kills need a short session timeout (the group notices a dead member sooner). Without kills, a longer one keeps a member
# that the machine starved for a few seconds (CI runs tests side by side on 2 cores) in the group: a spurious
# rebalance would re-read and re-emit, and the exactly-once counts below would fail for the machine's load, not pipec.
if [ "$KILLS" -gt 0 ]; then SESSION_TIMEOUT=3000; else SESSION_TIMEOUT=10000; fi
RANDOM=$SEED
echo "     seed $SEED (EXCHANGE_SEED=$SEED reproduces the kill sequence), $EVENTS events, $KILLS kills"

# --- events -----------------------------------------------------------------------------------------------------------
# Round-robin over the partitions (event i to partition i mod 12), times spread over 2 hours in order, each moved back
# by up to 15 s (half the delay): within a partition no row is ever behind its partition's watermark, whatever the
# other partitions do. The far-late rows lie in the first 30 minutes; they are produced after the group's watermark
# passed base + 1 h, when all their windows (ending by base + 50 min) have fired everywhere. Then one flush event per
# partition a day later makes every window fire. Event times are relative to today, so they never lie in the future.
python3 - "$WORK" "$EVENTS" "$CHUNKS" "$PARTITIONS" "$STORES" "$LATE" <<'PY'
import random, sys, time
work, n, chunks, partitions, stores, late = sys.argv[1], *map(int, sys.argv[2:])
rng = random.Random(1212)
day = 86400000
base = int(time.time() * 1000) // day * day - 2 * day
span = 2 * 3600 * 1000
def line(t, store, flag):
    return '{"_time": %d, "storeId": "%d", "hasStoreOrderConfirmedData": %s}\n' % (t, store, "true" if flag else "false")
with open(f"{work}/all.jsonl", "w") as every:
    files = {}
    for i in range(n):
        t = base + span * i // n - rng.randrange(15000)
        text = line(t, 1000 + rng.randrange(stores), rng.random() < 0.4)
        every.write(text)
        key = (i * chunks // n, i % partitions)
        if key not in files:
            files[key] = open(f"{work}/chunk-{key[0]:03d}-p{key[1]:02d}.jsonl", "w")
        files[key].write(text)
    for f in files.values():
        f.close()
    with open(f"{work}/late.jsonl", "w") as out:
        for i in range(late):
            text = line(base + rng.randrange(30 * 60 * 1000), 1000 + rng.randrange(stores), rng.random() < 0.4)
            every.write(text)
            out.write(text)
with open(f"{work}/flush.jsonl", "w") as flush:
    flush.write(line(base + day, 999, False))
with open(f"{work}/base", "w") as f:
    f.write(str(base))
PY
BASE=$(cat "$WORK/base")

# --- the reference: the offline replay of the same events (without the flush events) ------------------------------------
python3 - "$SPEC" "$WORK/spec_window_end.yaml" <<'PY'
import sys
text = open(sys.argv[1]).read()
select = "SELECT store_id AS st,"
assert select in text
text = text.replace(select, select + " HOP_END(_time, INTERVAL '20' SECONDS, INTERVAL '20' MINUTES) AS window_end,", 1)
open(sys.argv[2], "w").write(text)
PY
"$PIPEC" run "$WORK/spec_window_end.yaml" --env-file pipec.yaml --proto-path schemas --input "$WORK/all.jsonl" \
  --output "$WORK/reference.jsonl" 2> "$WORK/reference.log" || { echo "FAIL the offline replay"; cat "$WORK/reference.log"; exit 1; }
last_values "$WORK/reference.jsonl" st "$VALUE" > "$WORK/expected.txt"
REFERENCE_ROWS=$(wc -l < "$WORK/reference.jsonl")
check "the replay has a value for all $STORES stores" "$STORES" "$(wc -l < "$WORK/expected.txt")"
check "the replay drops exactly the far-late rows as late" "$LATE" "$(summary_count "$WORK/reference.log" late)"
"$PIPEC" explain "$SPEC" --env-file pipec.yaml --proto-path schemas > "$WORK/explain.txt" 2>&1
grep -qi "exchange" "$WORK/explain.txt" && echo "ok   the plan has a repartition exchange" ||
  { echo "FAIL the plan of a spec without key_field has no exchange:"; cat "$WORK/explain.txt"; exit 1; }

# --- Redis with its monitor, the broker, three members -------------------------------------------------------------
REDIS_PID=""; BROKER_PID=""; MONITOR_PID=""; RUN_PIDS=()
declare -a PIDS PORTS INCARNATION
cleanup() {
  RUN_PIDS=("${PIDS[@]}")
  [ -n "$MONITOR_PID" ] && kill "$MONITOR_PID" 2> /dev/null
  integration_cleanup
}
trap cleanup EXIT
REDIS_PORT=$(free_port)
start_redis "$REDIS_PORT" || exit 1
redis-cli -p "$REDIS_PORT" monitor > "$WORK/monitor.log" 2> "$WORK/monitor.err" &
MONITOR_PID=$!
wait_for 10 bash -c "redis-cli -p $REDIS_PORT client list | grep -q 'cmd=monitor'" || { echo "FAIL redis-cli monitor"; exit 1; }
start_broker "$TOPIC:$PARTITIONS,$(changelog "$GROUP" "$JOB" "$PARTITIONS"),$GROUP-$JOB-repartition:$PARTITIONS" || exit 1

metric() {  # metric PORT NAME → the value of an unlabelled-but-job metric ("" when the member does not answer)
  curl -sf --max-time 1 "http://127.0.0.1:$1/metrics" 2> /dev/null | awk -v name="$2" '$1 ~ "^"name"[{]" {print $2; exit}'
}
start_member() {  # start_member SLOT: a new incarnation of member SLOT (logs in member-SLOT-INCARNATION.log)
  local slot=$1
  INCARNATION[slot]=$((${INCARNATION[slot]:-0} + 1))
  PORTS[slot]=$(free_port)
  "$PIPEC" run "$SPEC" --brokers "$BROKERS" --group "$GROUP" --sink redis --checkpoint-interval 1000 \
    --idle-timeout 0 --session-timeout "$SESSION_TIMEOUT" --metrics-port "${PORTS[slot]}" \
    --set "sinks.prod_canary_features.address=127.0.0.1:$REDIS_PORT" \
    > /dev/null 2> "$WORK/member-$slot-${INCARNATION[slot]}.log" &
  PIDS[slot]=$!
}
alive() { local state; state=$(ps -o stat= -p "$1" 2> /dev/null); [ -n "$state" ] && [ "${state:0:1}" != Z ]; }
check_alive() {  # a member that exited without being killed is a failure: report it and restart it
  local slot status
  for slot in 0 1 2; do
    alive "${PIDS[slot]}" && continue
    wait "${PIDS[slot]}"; status=$?
    echo "FAIL member $slot (incarnation ${INCARNATION[slot]}) exited by itself with status $status:"
    # (killed by a signal: pipec printed its stack, which the longer tail shows)
    tail -n "$([ "$status" -ge 128 ] && echo 80 || echo 15)" "$WORK/member-$slot-${INCARNATION[slot]}.log"
    failures=$((failures + 1))
    start_member "$slot"
  done
}
produce() {  # produce FILE PARTITION
  "$PIPEC" produce "$TOPIC" --brokers "$BROKERS" --from "$1" --partition "$2" \
    --proto-class com.doordash.timeline_events.StoreTimelineEvent > /dev/null 2>> "$WORK/produce.log"
}
produce_round_robin() {  # produce_round_robin FILE: line i to partition i mod 12
  local p
  for p in $(seq 0 $((PARTITIONS - 1))); do
    awk -v p="$p" -v n="$PARTITIONS" '(NR - 1) % n == p' "$1" > "$WORK/rr-$p.jsonl"
    [ -s "$WORK/rr-$p.jsonl" ] && { produce "$WORK/rr-$p.jsonl" "$p" || return 1; }
  done
  return 0
}
min_watermark() {  # the lowest stage-2 watermark over the members, "" while one has none (a task without markers yet)
  local slot w lowest=""
  for slot in 0 1 2; do
    w=$(metric "${PORTS[slot]}" pipec_watermark_ms)
    [ -n "$w" ] || { echo ""; return; }
    if [ -z "$lowest" ] || [ "$w" -lt "$lowest" ]; then lowest=$w; fi
  done
  echo "$lowest"
}

for slot in 0 1 2; do start_member "$slot"; done
# Both groups (stage 1 on the source, stage 2 on the repartition topic) must have settled with all three members before
# the first event: every member has partitions in both, and no assignment changed for 3 s. A member joining while
# events flow would make the others give their partitions back and re-read (counted below as no restart).
assignment_events() { cat "$WORK"/member-[012]-1.log | grep -cE 'assigned|revok|lost'; }
settled() {
  local slot log
  for slot in 0 1 2; do
    log=$WORK/member-$slot-1.log
    grep -q '(stage 1): assigned' "$log" && grep -q "job $JOB: assigned" "$log" || return 1
  done
  local before; before=$(assignment_events)
  sleep 3
  [ "$(assignment_events)" = "$before" ]
}
if ! wait_for 90 settled; then
  echo "FAIL the three members did not all get partitions in both stages"; tail -n 5 "$WORK"/member-*.log; exit 1
fi

# --- produce in chunks (and kill) ------------------------------------------------------------------------------------
RUN_START=$SECONDS
(
  for chunk in $(seq 0 $((CHUNKS - 1))); do
    for file in "$WORK"/chunk-$(printf %03d "$chunk")-p*.jsonl; do
      p=${file##*-p}; p=$((10#${p%.jsonl}))
      produce "$file" "$p" || { echo "FAIL pipec produce $file"; exit 1; }
    done
  done
  touch "$WORK/produced"
) &
PRODUCER_PID=$!
kills=0
while [ ! -e "$WORK/produced" ] || [ "$kills" -lt "$KILLS" ]; do
  alive "$PRODUCER_PID" || [ -e "$WORK/produced" ] || { echo "FAIL the producer stopped"; cat "$WORK/produce.log"; exit 1; }
  sleep 1
  check_alive
  [ "$KILLS" -gt 0 ] || continue
  [ "$kills" -lt "$KILLS" ] || continue
  sleep "$((RANDOM % 3)).$((RANDOM % 10))"
  victim=$((RANDOM % 3))
  kill -KILL "${PIDS[victim]}"; wait "${PIDS[victim]}" 2> /dev/null
  kills=$((kills + 1))
  start_member "$victim"
done
wait "$PRODUCER_PID"; check "the producer delivered every chunk" 0 "$?"
[ "$kills" -ge "$KILLS" ] && [ "$KILLS" -gt 0 ] && echo "ok   $kills kills while the events were produced"

# The far-late rows, once every member's watermark passed them (their windows fired everywhere).
watermark_passed() { local w; w=$(min_watermark); [ -n "$w" ] && [ "$w" -ge $((BASE + 3600000)) ]; }
if wait_for 240 watermark_passed; then
  echo "ok   the group's watermark passed base + 1 h"
else
  echo "FAIL the group's watermark did not pass base + 1 h: $(min_watermark)"; for slot in 0 1 2; do tail -n 5 "$WORK/member-$slot-${INCARNATION[slot]}.log"; done
  exit 1
fi
produce_round_robin "$WORK/late.jsonl" || { echo "FAIL producing the late rows"; exit 1; }
for p in $(seq 0 $((PARTITIONS - 1))); do produce "$WORK/flush.jsonl" "$p" || exit 1; done

# --- drain ---------------------------------------------------------------------------------------------------------------
features_match() { [ "$(redis_values "$REDIS_PORT" "$FEATURE")" == "$(cat "$WORK/expected.txt")" ]; }
drained() {
  local slot
  check_alive
  # The source lag only: stage 1 writes markers all the time, so the repartition topic is never "drained" for long.
  for slot in 0 1 2; do
    [ "$(metric "${PORTS[slot]}" pipec_consumer_lag_records)" = 0 ] || return 1
  done
  features_match
}
if wait_for 240 drained; then
  echo "ok   after the drain every Redis key equals the offline replay ($(wc -l < "$WORK/expected.txt") keys)"
else
  echo "FAIL after the drain Redis differs from the offline replay (< redis, > replay):"
  diff <(redis_values "$REDIS_PORT" "$FEATURE") "$WORK/expected.txt" | head -20
  for slot in 0 1 2; do tail -n 8 "$WORK/member-$slot-${INCARNATION[slot]}.log"; done
  failures=$((failures + 1))
fi
RUN_SECONDS=$((SECONDS - RUN_START))

late=0; rows=0; duplicates=0; bytes=0; rows_exchanged=0
for slot in 0 1 2; do
  late=$((late + $(metric "${PORTS[slot]}" pipec_rows_late_total)))
  rows=$((rows + $(metric "${PORTS[slot]}" pipec_rows_out_total)))
  duplicates=$((duplicates + $(metric "${PORTS[slot]}" pipec_exchange_duplicates_total)))
  bytes=$((bytes + $(metric "${PORTS[slot]}" pipec_exchange_bytes_out_total)))
  rows_exchanged=$((rows_exchanged + $(metric "${PORTS[slot]}" pipec_exchange_records_out_total)))
done
if [ "$KILLS" = 0 ]; then
  check "the members dropped exactly the far-late rows as late" "$LATE" "$late"
  check "every window was emitted exactly once over the group (rows out = the replay's rows)" "$REFERENCE_ROWS" "$rows"
  check "stage 1 produced every event once (no restart)" $((EVENTS + LATE + PARTITIONS)) "$rows_exchanged"
  echo "     repartition topic: $((bytes / (rows_exchanged > 0 ? rows_exchanged : 1))) bytes per row (key and value)"
else
  echo "     stage 2 dropped $duplicates rows that restarted stage-1 tasks produced again (last incarnations)"
fi
echo "     $((EVENTS + LATE)) events through the group in ${RUN_SECONDS} s (3 members, both stages each, on this machine)"

for slot in 0 1 2; do kill -TERM "${PIDS[slot]}"; done
for slot in 0 1 2; do
  wait "${PIDS[slot]}"; status=$?
  check "member $slot (incarnation ${INCARNATION[slot]}) stops with exit 0" 0 "$status"
done
PIDS=()
features_match && echo "ok   Redis still equals the replay after the members stopped" ||
  { echo "FAIL Redis changed when the members stopped"; failures=$((failures + 1)); }
check "no key without a TTL" 0 "$(keys_without_ttl "$REDIS_PORT" "$FEATURE")"

redis-cli -p "$REDIS_PORT" echo exchange-monitor-end > /dev/null
wait_for 20 grep -q exchange-monitor-end "$WORK/monitor.log" || echo "FAIL the monitor log did not catch up"
kill "$MONITOR_PID"; wait "$MONITOR_PID" 2> /dev/null; MONITOR_PID=""
python3 tests/integration/redis_monitor_check.py "$WORK/monitor.log" "$FEATURE" --reference "$WORK/reference.jsonl" st "$VALUE" \
  window_end > "$WORK/monitor.json"
read -r went_back wrong unguarded <<< "$(python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))
print(r["went_back"], r["wrong_values"], r["unguarded"])' "$WORK/monitor.json")"
check "Redis never served a window older than one it had served for the key" 0 "$went_back"
check "every value Redis served is the replay's value for its window" 0 "$wrong"
check "every feature write went through the guard script" 0 "$unguarded"

echo "     $((SECONDS - START)) s in all"
[ "$failures" -eq 0 ] && exit 0 || exit 1
