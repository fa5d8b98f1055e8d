#!/usr/bin/env bash
# Health while Redis stalls: `pipec run SPEC --brokers B --sink redis --metrics-port P --sink-down-threshold 2000`
# consumes 3 000 events while Redis holds every write (CLIENT PAUSE WRITE). The job blocks on its first flush
# (back-pressure). While it waits:
#   - /readyz answers 503 with the reason once the sink has been blocked for 2 s, /healthz stays 200;
#   - pipec_sink_up is 0 and pipec_sink_blocked_seconds grows;
#   - the lag gauge follows the topic: 1 000 more events produced while the job is blocked raise it by 1 000
#     (the lag monitor asks the broker; the job thread is stuck in the flush).
# Then Redis is unpaused: the job catches up, /readyz is 200 again, the lag drops to 0, and Redis holds the features.
#   tests/integration/run_sink_stall_health.sh PIPEC        exit 0 pass, 1 fail, 77 skipped
set -uo pipefail
PIPEC=$(realpath "$1")
cd "$(dirname "$0")/../.."
WORK=$(mktemp -d)
source tests/integration/lib.sh
require_tools redis-server redis-cli python3 curl
REDIS_PID=""; BROKER_PID=""; RUN_PIDS=()
trap integration_cleanup EXIT

SPEC=examples/store_order_count.yaml
FEATURE=canary_store_order_count
TOPIC=store_timeline_events
python3 - "$WORK/events.jsonl" "$WORK/more.jsonl" <<'PY'
import random, sys
rng = random.Random(11)
base = 1767225600000
for path, start, n in ((sys.argv[1], 0, 3000), (sys.argv[2], 3000, 1000)):
    with open(path, "w") as out:
        for i in range(start, start + n):
            out.write('{"_time": %d, "storeId": "%d", "hasStoreOrderConfirmedData": true}\n'
                      % (base + i * 1000, 1 + rng.randrange(50)))
PY

REDIS_PORT=$(free_port)
METRICS_PORT=$(free_port)
start_redis "$REDIS_PORT" || exit 1
start_broker "$TOPIC:2,$(changelog stall canary_store_order_count 2)" || exit 1
produce() {
  "$PIPEC" produce "$TOPIC" --brokers "$BROKERS" --from "$1" --key store_id \
    --proto-class com.doordash.timeline_events.StoreTimelineEvent 2>> "$WORK/produce.log" > /dev/null ||
    { echo "FAIL pipec produce"; cat "$WORK/produce.log"; exit 1; }
}
produce "$WORK/events.jsonl"

metric() {  # metric NAME → the value of the job's sample NAME{job=...[,sink=...]} (empty when absent)
  curl -s "http://127.0.0.1:$METRICS_PORT/metrics" | sed -n "s/^$1{[^}]*} //p" | head -1
}
status_of() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$METRICS_PORT$1"; }

redis-cli -p "$REDIS_PORT" client pause 60000 write > /dev/null
"$PIPEC" run "$SPEC" --brokers "$BROKERS" --sink redis --group stall --session-timeout 3000 --commit-interval 500 \
  --metrics-port "$METRICS_PORT" --sink-down-threshold 2000 \
  --set "sinks.prod_canary_features.address=127.0.0.1:$REDIS_PORT" > /dev/null 2> "$WORK/run.log" &
RUN_PIDS=($!)
if ! wait_for 30 grep -q 'assigned' "$WORK/run.log"; then
  echo "FAIL the job was never assigned its partitions"; cat "$WORK/run.log"; exit 1
fi

if wait_for 20 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$METRICS_PORT/readyz)\" = 503 ]"; then
  echo "ok   /readyz answers 503 while the sink is blocked past the threshold"
else
  echo "FAIL /readyz never answered 503 while Redis was paused: $(curl -s http://127.0.0.1:$METRICS_PORT/readyz)"
  failures=$((failures + 1))
fi
body=$(curl -s "http://127.0.0.1:$METRICS_PORT/readyz")
case "$body" in
  *"sink \`prod_canary_features\` blocked for "*) echo "ok   /readyz says which sink and for how long: $body" ;;
  *) echo "FAIL /readyz body does not name the blocked sink: '$body'"; failures=$((failures + 1)) ;;
esac
check "/healthz stays 200 while the job waits for Redis" 200 "$(status_of /healthz)"
check "pipec_sink_up is 0" 0 "$(metric pipec_sink_up)"
blocked=$(metric pipec_sink_blocked_seconds)
if python3 -c "import sys; sys.exit(0 if float('$blocked') >= 2 else 1)" 2> /dev/null; then
  echo "ok   pipec_sink_blocked_seconds shows the wait ($blocked s)"
else
  echo "FAIL pipec_sink_blocked_seconds is '$blocked', expected >= 2"; failures=$((failures + 1))
fi
records_before=$(metric pipec_records_in_total)

# The lag while blocked: wait for the monitor to see the job's position, then grow the topic.
wait_for 12 bash -c "lag=\$(curl -s http://127.0.0.1:$METRICS_PORT/metrics | sed -n 's/^pipec_consumer_lag_records{[^}]*} //p'); [ -n \"\$lag\" ] && [ \"\$lag\" -ge 0 ]"
lag_before=$(metric pipec_consumer_lag_records)
produce "$WORK/more.jsonl"
expected=$((lag_before + 1000))
if wait_for 15 bash -c "[ \"\$(curl -s http://127.0.0.1:$METRICS_PORT/metrics | sed -n 's/^pipec_consumer_lag_records{[^}]*} //p')\" = $expected ]"; then
  echo "ok   the lag follows the topic while the job is blocked ($lag_before → $expected)"
else
  echo "FAIL the lag did not move with the topic while blocked: $lag_before → $(metric pipec_consumer_lag_records), expected $expected"
  failures=$((failures + 1))
fi
check "the job read nothing while blocked" "$records_before" "$(metric pipec_records_in_total)"
check "/readyz still 503" 503 "$(status_of /readyz)"

redis-cli -p "$REDIS_PORT" client unpause > /dev/null
if wait_for 20 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$METRICS_PORT/readyz)\" = 200 ]"; then
  echo "ok   /readyz is 200 again once Redis takes writes"
else
  echo "FAIL /readyz stayed $(status_of /readyz) after Redis came back"; failures=$((failures + 1))
fi
if wait_for 20 bash -c "[ \"\$(curl -s http://127.0.0.1:$METRICS_PORT/metrics | sed -n 's/^pipec_consumer_lag_records{[^}]*} //p')\" = 0 ]"; then
  echo "ok   the job caught up: lag 0"
else
  echo "FAIL the lag is $(metric pipec_consumer_lag_records) after Redis came back, expected 0"; failures=$((failures + 1))
fi
check "pipec_sink_up is 1 again" 1 "$(metric pipec_sink_up)"
check "pipec_sink_blocked_seconds is 0 again" 0.000 "$(metric pipec_sink_blocked_seconds)"
if [ "$(redis-cli -p "$REDIS_PORT" --scan --pattern "$FEATURE:*" | wc -l)" -gt 0 ]; then
  echo "ok   features were written after the stall"
else
  echo "FAIL no feature in Redis after the stall"; failures=$((failures + 1))
fi
stop_pid "${RUN_PIDS[0]}" TERM; RUN_PIDS=()

echo "sink stall health: $failures failure(s)"
[ "$failures" = 0 ] || { echo "--- pipec run stderr:"; tail -20 "$WORK/run.log"; }
[ "$failures" = 0 ]
