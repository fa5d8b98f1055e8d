#!/usr/bin/env bash
# Redis outage during a bounded run: `pipec run SPEC --brokers B --until-end --sink redis` over 30 000 events;
# redis-server is killed (SIGKILL) while the job waits on it, and restarted empty on the same port ~2 s later. The sink must retry with back-off (back-pressure, nothing dropped, nothing committed past it), so the final
# features equal the offline replay of the same events (last value per store) and every key has a TTL.
# The run is bounded and pipec is fast, so Redis holds every write (CLIENT PAUSE WRITE) until it is killed: the kill
# lands while the job is still running (checked). The events span 2 hours and every store has events in the last 20 minutes, so every store's last HOP
# window fires at the end of the run, after Redis came back empty: completeness does not depend on persistence.
#   tests/integration/run_redis_outage_until_end.sh PIPEC        exit 0 pass, 1 fail, 77 skipped
set -uo pipefail
PIPEC=$(realpath "$1")
cd "$(dirname "$0")/../.."
WORK=$(mktemp -d)
source tests/integration/lib.sh
require_tools redis-server redis-cli python3
REDIS_PID=""; BROKER_PID=""; RUN_PIDS=()
trap integration_cleanup EXIT

SPEC=examples/store_order_count.yaml
FEATURE=canary_store_order_count
TOPIC=store_timeline_events
python3 - "$WORK/events.jsonl" <<'PY'
import random, sys
rng = random.Random(5)
base, span, n = 1767225600000, 2 * 3600 * 1000, 30000
with open(sys.argv[1], "w") as out:
    for i in range(n):
        out.write('{"_time": %d, "storeId": "%d", "hasStoreOrderConfirmedData": %s}\n'
                  % (base + span * i // n, 1 + rng.randrange(100), "true" if rng.random() < 0.4 else "false"))
PY
"$PIPEC" run "$SPEC" --input "$WORK/events.jsonl" --output "$WORK/reference.jsonl" 2> "$WORK/reference.log"
last_values "$WORK/reference.jsonl" st saf_st_p20mi_order_count_sum_canary > "$WORK/expected.txt"
check "the reference has a value for all 100 stores" 100 "$(wc -l < "$WORK/expected.txt")"

REDIS_PORT=$(free_port)
start_redis "$REDIS_PORT" || exit 1
start_broker "$TOPIC:4" || exit 1
"$PIPEC" produce "$TOPIC" --brokers "$BROKERS" --from "$WORK/events.jsonl" --key store_id \
  --proto-class com.doordash.timeline_events.StoreTimelineEvent 2> "$WORK/produce.log" > /dev/null ||
  { echo "FAIL pipec produce"; cat "$WORK/produce.log"; exit 1; }

# Redis holds every write (CLIENT PAUSE) from before the job starts until it is killed, so the job (which is fast
# enough to consume the whole topic in well under a second) is deterministically still running, blocked on its first
# flush, when Redis goes away; nothing it wrote can have been acknowledged.
redis-cli -p "$REDIS_PORT" client pause 60000 write > /dev/null
timeout 50 "$PIPEC" run "$SPEC" --brokers "$BROKERS" --until-end --sink redis --group outage --session-timeout 3000 \
  --commit-interval 1 --set "sinks.prod_canary_features.address=127.0.0.1:$REDIS_PORT" > /dev/null 2> "$WORK/run.log" &
RUN_PIDS=($!)
if ! wait_for 30 grep -q 'assigned' "$WORK/run.log"; then
  echo "FAIL the job was never assigned its partitions"; cat "$WORK/run.log"; exit 1
fi
sleep 2  # consumes everything, then waits on the paused Redis
if kill -0 "${RUN_PIDS[0]}" 2> /dev/null; then
  echo "ok   the job is still running (blocked on Redis) when Redis is killed"
else
  echo "FAIL the job ended before the outage: the test did not test anything"; failures=$((failures + 1))
fi
stop_pid "$REDIS_PID" KILL; REDIS_PID=""
sleep 2
start_redis "$REDIS_PORT" || exit 1  # back, and empty
status=0
wait "${RUN_PIDS[0]}" || status=$?
RUN_PIDS=()
check "pipec run --until-end exits 0 after the outage" 0 "$status"
check "all 30000 records consumed" 30000 "$(summary_count "$WORK/run.log" records)"
check "no record rejected" 0 "$(summary_count "$WORK/run.log" rejected)"
if [ "$(redis_values "$REDIS_PORT" "$FEATURE")" == "$(cat "$WORK/expected.txt")" ]; then
  echo "ok   after the outage the features are complete and equal to the replay reference"
else
  echo "FAIL features in Redis differ from the replay reference (< redis, > reference)"
  diff <(redis_values "$REDIS_PORT" "$FEATURE") "$WORK/expected.txt" | head -10
  failures=$((failures + 1))
fi
check "every feature key has a TTL" 0 "$(keys_without_ttl "$REDIS_PORT" "$FEATURE")"
if grep -qiE 'redis.*(error|refused|reconnect|unreachable|lost)|(error|refused|reconnect|unreachable|lost).*redis' "$WORK/run.log"; then
  echo "ok   the outage was reported in the job's log"
else
  echo "FAIL the outage left no trace in the job's log"; failures=$((failures + 1))
fi

echo "redis outage (until-end): $failures failure(s)"
[ "$failures" = 0 ] || { echo "--- pipec run stderr:"; tail -20 "$WORK/run.log"; }
[ "$failures" = 0 ]
