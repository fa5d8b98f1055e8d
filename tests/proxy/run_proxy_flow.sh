#!/usr/bin/env bash
# The whole flow: the sample events posted to `pipec proxy` (v3 streaming, 50 records a request, each event's time
# in its `event-created-at` record header), then `pipec run` on the topic writing features to a real redis-server.
# The features must equal the offline replay of the same events (`pipec run --input`).
#   tests/proxy/run_proxy_flow.sh PIPEC        exit 0 pass, 1 fail, 77 skipped
set -uo pipefail
PIPEC=$(realpath "$1")
cd "$(dirname "$0")/../.."
WORK=$(mktemp -d)
source tests/integration/lib.sh
require_tools redis-server redis-cli curl kcat python3
REDIS_PID=""; BROKER_PID=""; RUN_PIDS=()
trap integration_cleanup EXIT

SPEC=examples/store_order_count.yaml
FEATURE=canary_store_order_count
TOPIC=store_timeline_events
EVENTS=examples/data/store_timeline_events.jsonl

REDIS_PORT=$(free_port)
start_redis "$REDIS_PORT" || exit 1
start_broker "$TOPIC:2,$(changelog pipec-canary_store_order_count canary_store_order_count 2)" || exit 1
"$PIPEC" proxy "$SPEC" --listen 127.0.0.1:0 --brokers "$BROKERS" > "$WORK/proxy.out" 2> "$WORK/proxy.err" &
RUN_PIDS+=($!)
wait_for 10 grep -q '^listening on ' "$WORK/proxy.out"
PROXY_URL=$(sed -n 's/^listening on //p' "$WORK/proxy.out")
wait_for 20 curl -sf "$PROXY_URL/readyz" -o /dev/null

# The sample events as v3 records: key = the store, `_time` → the event-created-at header, the rest → the value.
python3 - "$EVENTS" "$WORK" <<'PY'
import base64, datetime, json, sys
events, work = sys.argv[1], sys.argv[2]
records = []
for line in open(events):
    if not line.strip():
        continue
    event = json.loads(line)
    time = event.pop("_time")
    millis = int(datetime.datetime.fromisoformat(time.replace("Z", "+00:00")).timestamp() * 1000)
    records.append({
        "headers": [{"name": "event-created-at", "value": base64.b64encode(str(millis).encode()).decode()}],
        "key": {"type": "STRING", "data": str(event["storeId"])},
        "value": {"type": "JSON", "data": event},
    })
for start in range(0, len(records), 50):
    with open(f"{work}/batch_{start // 50:03d}.json", "w") as out:
        out.write("\n".join(json.dumps(r) for r in records[start:start + 50]))
print(len(records))
PY
posted=0; accepted=0
for batch in "$WORK"/batch_*.json; do
  status=$(curl -s -o "$WORK/response" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "@$batch" \
    "$PROXY_URL/v3/clusters/default/topics/$TOPIC/records")
  [ "$status" == 200 ] || echo "FAIL batch $batch: HTTP $status $(head -c 300 "$WORK/response")"
  posted=$((posted + $(grep -c '' "$batch")))
  accepted=$((accepted + $(grep -c '"error_code":200' "$WORK/response")))
done
check "every posted event was acknowledged" "$posted" "$accepted"
check "the topic holds them all" "$posted" "$(kcat -C -b "$BROKERS" -t $TOPIC -e -q -f '%o\n' 2> /dev/null | wc -l)"

"$PIPEC" run "$SPEC" --input "$EVENTS" --output "$WORK/reference.jsonl" 2> /dev/null
last_values "$WORK/reference.jsonl" st saf_st_p20mi_order_count_sum_canary > "$WORK/expected.txt"
timeout 60 "$PIPEC" run "$SPEC" --brokers "$BROKERS" --until-end --sink redis --session-timeout 3000 \
  --set "sinks.prod_canary_features.address=127.0.0.1:$REDIS_PORT" > /dev/null 2> "$WORK/run.log"
check "pipec run exits 0" 0 $?
check "pipec run decoded every record" "$posted" "$(summary_count "$WORK/run.log" decoded)"
check "pipec run rejected none" 0 "$(summary_count "$WORK/run.log" rejected)"
if [ -s "$WORK/expected.txt" ] && [ "$(redis_values "$REDIS_PORT" "$FEATURE")" == "$(cat "$WORK/expected.txt")" ]; then
  echo "ok   the features in Redis equal the offline replay ($(wc -l < "$WORK/expected.txt") stores)"
else
  echo "FAIL the features differ from the offline replay (< redis, > replay)"
  diff <(redis_values "$REDIS_PORT" "$FEATURE") "$WORK/expected.txt" | head -10
  failures=$((failures + 1))
fi

echo "proxy flow: $failures failure(s)"
[ "$failures" = 0 ] || { echo "--- pipec run stderr:"; tail -20 "$WORK/run.log"; }
[ "$failures" = 0 ]
