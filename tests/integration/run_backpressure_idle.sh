#!/usr/bin/env bash
# Back-pressure must not make partitions idle (issue "Runtime on Kafka's terms", item 7): two partitions of 7 200
# events each (500 ms apart, one store per partition, TUMBLE 1 minute, no watermark delay) are consumed while Redis
# holds every write (CLIENT PAUSE WRITE) for longer than the idle timeout. The job blocks on its first flush; when
# Redis comes back, the partition read first must not count the other as idle and run the watermark ahead of it
# (before the fix: "159 late, 119 rows out"). Expected: 0 late, 120 rows, as offline.
#   tests/integration/run_backpressure_idle.sh PIPEC        exit 0 pass, 1 fail, 77 skipped
set -uo pipefail
PIPEC=$(realpath "$1")
cd "$(dirname "$0")/../.."
WORK=$(mktemp -d)
source tests/integration/lib.sh
require_tools redis-server redis-cli python3
REDIS_PID=""; BROKER_PID=""; RUN_PIDS=()
trap integration_cleanup EXIT

SPEC=tests/integration/specs/store_minute_count.yaml
TOPIC=store_timeline_events
python3 - "$WORK" <<'PY'
import sys
work = sys.argv[1]
base = 1767225600000
for partition in (0, 1):
    with open(f"{work}/p{partition}.jsonl", "w") as out:
        for i in range(7200):
            out.write('{"_time": %d, "storeId": "%d"}\n' % (base + i * 500, 1 + partition))
PY
cat "$WORK/p0.jsonl" "$WORK/p1.jsonl" | sort -t: -k2 -n > "$WORK/all.jsonl"
"$PIPEC" run "$SPEC" --input "$WORK/all.jsonl" --output "$WORK/reference.jsonl" 2> "$WORK/reference.log"
check "offline: 120 rows" 120 "$(wc -l < "$WORK/reference.jsonl")"

REDIS_PORT=$(free_port)
start_redis "$REDIS_PORT" || exit 1
start_broker "$TOPIC:2,$(changelog stalled store_minute_count 2)" || exit 1
for partition in 0 1; do
  "$PIPEC" produce "$TOPIC" --brokers "$BROKERS" --from "$WORK/p$partition.jsonl" --partition "$partition" \
    --proto-class com.doordash.timeline_events.StoreTimelineEvent 2>> "$WORK/produce.log" > /dev/null ||
    { echo "FAIL pipec produce"; cat "$WORK/produce.log"; exit 1; }
done

# Redis holds writes for 8 s; partitions go idle after 3 s of silence.
redis-cli -p "$REDIS_PORT" client pause 8000 write > /dev/null
timeout 90 "$PIPEC" run "$SPEC" --brokers "$BROKERS" --group stalled --sink redis --until-end --commit-interval 1 \
  --idle-timeout 3000 --session-timeout 3000 --set "sinks.prod_canary_features.address=127.0.0.1:$REDIS_PORT" \
  > /dev/null 2> "$WORK/run.log"
check "pipec run exit status" 0 "$?"
check "no row late" 0 "$(summary_count "$WORK/run.log" late)"
check "every minute of both stores emitted" 120 "$(summary_count "$WORK/run.log" rows)"
check "both stores' features in Redis" 2 "$(redis-cli -p "$REDIS_PORT" --scan --pattern 'store_events_1m:*' | wc -l)"
[ "$failures" = 0 ] || { echo "--- run log:"; tail -n 20 "$WORK/run.log"; }
echo "backpressure/idle: $failures failure(s)"
[ "$failures" = 0 ]
