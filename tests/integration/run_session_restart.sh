#!/usr/bin/env bash
# A session job stopped (SIGTERM) while sessions are open, then restarted, continues them exactly: its four tasks are
# restored from the changelog with their open sessions, and the restart reads only the events produced since. The
# rows of the two runs together must equal those of one run over all events (the topic is keyed by consumer_id).
set -uo pipefail
PIPEC=$(realpath "$1")
cd "$(dirname "$0")/../.."
WORK=$(mktemp -d)
source tests/integration/lib.sh
require_tools python3 curl
REDIS_PID=""; BROKER_PID=""; RUN_PIDS=()
trap integration_cleanup EXIT

# examples/consumer_session_count.yaml with `key_field: consumer_id`: SESSION(event_time_ms, 10 min) per consumer_id,
# watermark delay 2 s, on a topic keyed by consumer_id (no repartition exchange)
SPEC=tests/integration/specs/consumer_session_keyed.yaml
TOPIC=store_timeline_events

# 3000 events 1-20 s apart over 40 consumers: a consumer's events are ~7 min apart on average, so some sessions
# close within the stream and many are open at the stop.
python3 - "$WORK" <<'PY'
import json, random, sys
work = sys.argv[1]
rng = random.Random(11)
t = 1767225600000
rows = []
for _ in range(3000):
    t += rng.randint(1000, 20000)
    rows.append({"consumerId": str(rng.randint(1, 40)), "storeId": str(rng.randint(1, 30)), "eventTimeMs": str(t)})
for name, part in (("first", rows[:1500]), ("second", rows[1500:])):
    with open(f"{work}/{name}.jsonl", "w") as out:
        out.writelines(json.dumps(row) + "\n" for row in part)
PY
start_broker "$TOPIC:4,$(changelog restart consumer_session_activity 4),$(changelog reference consumer_session_activity 4)" || exit 1
produce() {  # produce FILE: keyed by the session's GROUP BY key
  "$PIPEC" produce "$TOPIC" --brokers "$BROKERS" --from "$1" --key consumer_id \
    --proto-class com.doordash.timeline_events.StoreTimelineEvent > /dev/null 2>> "$WORK/produce.log"
}
records_in() {  # records_in METRICS_PORT
  curl -sf "http://127.0.0.1:$1/metrics" | sed -n 's/^pipec_records_in_total{[^}]*} \([0-9]*\).*/\1/p'
}

produce "$WORK/first.jsonl"
port=$(free_port)
"$PIPEC" run "$SPEC" --brokers "$BROKERS" --group restart --sink jsonl --commit-interval 300 --idle-timeout 0 \
  --session-timeout 3000 --metrics-port "$port" > "$WORK/run1.jsonl" 2> "$WORK/run1.log" &
RUN_PIDS+=($!)
consumed_first() { local n; n=$(records_in "$port"); [ "${n:-0}" -ge 1500 ]; }
if ! wait_for 40 consumed_first; then
  echo "FAIL the first run did not consume the first 1500 events ($(records_in "$port"))"; cat "$WORK/run1.log"; exit 1
fi
sleep 1
kill -TERM "${RUN_PIDS[0]}"; wait "${RUN_PIDS[0]}"; status=$?; RUN_PIDS=()
check "first run stops with exit 0 on SIGTERM" 0 "$status"

produce "$WORK/second.jsonl"
timeout 120 "$PIPEC" run "$SPEC" --brokers "$BROKERS" --group restart --sink jsonl --until-end --idle-timeout 0 \
  --session-timeout 3000 > "$WORK/run2.jsonl" 2> "$WORK/run2.log"
check "restarted run exit status" 0 "$?"
if grep -q "assigned 4 partition(s): .*; 4 restored from changelog" "$WORK/run2.log"; then
  echo "ok   the restarted member restores its open sessions from the changelog"
else
  echo "FAIL the restarted member did not restore its 4 partitions from the changelog"; cat "$WORK/run2.log"
  failures=$((failures + 1))
fi
# Restart cost: a graceful stop checkpoints at the end, so the restart reads only the records produced since.
check "the restarted member reads only the new records" "$(wc -l < "$WORK/second.jsonl")" "$(summary_count "$WORK/run2.log" records)"

# The reference: one run over all 3000 events (a fresh group).
timeout 120 "$PIPEC" run "$SPEC" --brokers "$BROKERS" --group reference --sink jsonl --until-end --idle-timeout 0 \
  --session-timeout 3000 > "$WORK/reference.jsonl" 2> "$WORK/reference.log"
check "reference run exit status" 0 "$?"
run1=$(wc -l < "$WORK/run1.jsonl"); run2=$(wc -l < "$WORK/run2.jsonl")
echo "sessions: $run1 emitted before the stop, $run2 after the restart, $(wc -l < "$WORK/reference.jsonl") in the reference"
[ "$run1" -gt 0 ] && [ "$run2" -gt 0 ] || { echo "FAIL both runs must emit sessions"; failures=$((failures + 1)); }
if cmp -s <(cat "$WORK/run1.jsonl" "$WORK/run2.jsonl" | sort) <(sort "$WORK/reference.jsonl"); then
  echo "ok   both runs together emitted every session once, as one run over all events"
else
  echo "FAIL the sessions of the two runs differ from one run over all events:"
  diff <(cat "$WORK/run1.jsonl" "$WORK/run2.jsonl" | sort) <(sort "$WORK/reference.jsonl") | head -20
  failures=$((failures + 1))
fi
echo "session restart: $failures failure(s)"
[ "$failures" = 0 ]
