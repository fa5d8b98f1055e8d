#!/usr/bin/env bash
# kcat as an outside producer: JSON-encoded events (`event-encoding: json` header, the event time in
# `event-created-at`, written with `kcat -H`) on the same topic as pipec-produced binary Protobuf events are decoded
# and aggregated like them. Expected features: the offline replay of the sample events plus the kcat events (as
# JSON lines with their `_time`); store 999 exists only through kcat, store 101 gets one more confirmed order late in
# the hour (in its latest window; its earlier windows have fired, so there it is late, in the replay as well).
# Then the same job with its feature sink configured as `type: kafka` (an environment file): every output row lands
# as JSON on the sink's topic, read back with kcat; the last row per store equals the reference.
#   tests/integration/run_kcat_json.sh PIPEC        exit 0 pass, 1 fail, 77 skipped
set -uo pipefail
PIPEC=$(realpath "$1")
cd "$(dirname "$0")/../.."
WORK=$(mktemp -d)
source tests/integration/lib.sh
require_tools redis-server redis-cli kcat python3
REDIS_PID=""; BROKER_PID=""; RUN_PIDS=()
trap integration_cleanup EXIT

SPEC=examples/store_order_count.yaml
FEATURE=canary_store_order_count
TOPIC=store_timeline_events
MESSAGE=com.doordash.timeline_events.StoreTimelineEvent
EVENTS=examples/data/store_timeline_events.jsonl
T1=1767227865000  # 2026-01-01T00:37:45Z: with the last sample events
T2=1767227819000  # 00:36:59Z: in the 20 s slide of store 101's last sample event (00:36:58.704), so its latest window counts it

REDIS_PORT=$(free_port)
start_redis "$REDIS_PORT" || exit 1
start_broker "$TOPIC:1,canary_features:1,$(changelog pipec-canary_store_order_count canary_store_order_count 1),$(changelog kafka-sink canary_store_order_count 1)" || exit 1
"$PIPEC" produce "$TOPIC" --brokers "$BROKERS" --from "$EVENTS" --proto-class "$MESSAGE" --key store_id 2> "$WORK/produce.log" > /dev/null ||
  { echo "FAIL pipec produce"; cat "$WORK/produce.log"; exit 1; }
json_event() {  # json_event TIME_MS KEY JSON: one JSON-encoded record from kcat, the envelope in -H headers
  echo "$3" | kcat -P -b "$BROKERS" -t "$TOPIC" -k "$2" -H "event-created-at=$1" -H event-encoding=json \
    -H "event-schema=$MESSAGE" -H event-source=kcat
}
json_event "$T1" 999 '{"storeId": "999", "hasStoreOrderConfirmedData": true, "eventType": "ORDER_CONFIRMED"}'
json_event "$T2" 101 '{"store_id": "101", "has_store_order_confirmed_data": true}'  # proto field names work too
cp "$EVENTS" "$WORK/all.jsonl"
echo "{\"_time\": $T1, \"storeId\": \"999\", \"hasStoreOrderConfirmedData\": true}" >> "$WORK/all.jsonl"
echo "{\"_time\": $T2, \"storeId\": \"101\", \"hasStoreOrderConfirmedData\": true}" >> "$WORK/all.jsonl"
"$PIPEC" run "$SPEC" --input "$WORK/all.jsonl" --output "$WORK/reference.jsonl" 2> /dev/null
last_values "$WORK/reference.jsonl" st saf_st_p20mi_order_count_sum_canary > "$WORK/expected.txt"
"$PIPEC" run "$SPEC" --input "$EVENTS" --output "$WORK/without.jsonl" 2> /dev/null
last_values "$WORK/without.jsonl" st saf_st_p20mi_order_count_sum_canary > "$WORK/without.txt"
check "the kcat events change the reference for store 101" 1 \
  "$(( $(grep '^101 ' "$WORK/expected.txt" | cut -d' ' -f2) - $(grep '^101 ' "$WORK/without.txt" | cut -d' ' -f2) ))"
HEADERS=$(kcat -C -b "$BROKERS" -t "$TOPIC" -o -1 -c 1 -e -q -f '%h' 2> /dev/null)
check "kcat wrote the envelope headers" "event-created-at=$T2,event-encoding=json,event-schema=$MESSAGE,event-source=kcat" "$HEADERS"

timeout 50 "$PIPEC" run "$SPEC" --brokers "$BROKERS" --until-end --sink redis --session-timeout 3000 \
  --set "sinks.prod_canary_features.address=127.0.0.1:$REDIS_PORT" > /dev/null 2> "$WORK/run.log"
check "pipec run exits 0" 0 $?
check "summary: records" 242 "$(summary_count "$WORK/run.log" records)"
check "summary: decoded (the JSON events too)" 242 "$(summary_count "$WORK/run.log" decoded)"
check "summary: rejected" 0 "$(summary_count "$WORK/run.log" rejected)"
check "feature of the kcat-only store 999" 1 "$(redis-cli -p "$REDIS_PORT" get "$FEATURE:999")"
ttl=$(redis-cli -p "$REDIS_PORT" ttl "$FEATURE:999")
if [ "$ttl" -gt 1100 ] && [ "$ttl" -le 1200 ]; then echo "ok   TTL of store 999 is $ttl (feature_ttl 1200)"
else echo "FAIL TTL of store 999: $ttl"; failures=$((failures + 1)); fi
if [ "$(redis_values "$REDIS_PORT" "$FEATURE")" == "$(cat "$WORK/expected.txt")" ]; then
  echo "ok   the features equal the replay with the kcat events"
else
  echo "FAIL features differ from the replay with the kcat events (< redis, > reference)"
  diff <(redis_values "$REDIS_PORT" "$FEATURE") "$WORK/expected.txt" | head -10
  failures=$((failures + 1))
fi

# --- the Kafka sink ---------------------------------------------------------------------------------------------
cat > "$WORK/pipec.yaml" <<EOF
local:
  clusters:
    default: {bootstrap_servers: "$BROKERS"}
  sinks:
    prod_canary_features: {type: kafka, topic: canary_features}
EOF
timeout 50 "$PIPEC" run "$SPEC" --env-file "$WORK/pipec.yaml" --until-end --group kafka-sink --session-timeout 3000 \
  > /dev/null 2> "$WORK/kafka_sink.log"
check "pipec run with a kafka sink exits 0" 0 $?
if grep -q 'writing rows to Kafka sink `prod_canary_features`: topic `canary_features`' "$WORK/kafka_sink.log"; then
  echo "ok   the job writes to the Kafka sink"
else
  echo "FAIL no Kafka sink"; cat "$WORK/kafka_sink.log"; failures=$((failures + 1))
fi
kcat -C -b "$BROKERS" -t canary_features -e -q -f '%s\n' 2> /dev/null > "$WORK/kafka_rows.jsonl"
check "one record per output row" "$(summary_count "$WORK/kafka_sink.log" rows)" "$(wc -l < "$WORK/kafka_rows.jsonl")"
last_values "$WORK/kafka_rows.jsonl" st saf_st_p20mi_order_count_sum_canary > "$WORK/kafka_last.txt"
if [ "$(cat "$WORK/kafka_last.txt")" == "$(cat "$WORK/expected.txt")" ]; then
  echo "ok   the Kafka sink's last row per store equals the reference"
else
  echo "FAIL the Kafka sink's rows differ from the reference (< topic, > reference)"
  diff "$WORK/kafka_last.txt" "$WORK/expected.txt" | head -10
  failures=$((failures + 1))
fi

echo "kcat json: $failures failure(s)"
[ "$failures" = 0 ] || { echo "--- pipec run stderr:"; cat "$WORK/run.log"; }
[ "$failures" = 0 ]
