#!/usr/bin/env bash
# Bad records never crash a job and never change the features of the good ones. One partition (so event order, and
# thus lateness, is exactly the replay's), holding:
#   - the 240 sample events (pipec produce, binary Protobuf with envelope headers),
#   - 7 bad records written with kcat: corrupted payloads (raw bytes, a truncated message), a valid payload without
#     any envelope header, a wrong schema name, an unknown encoding, an unparseable creation time, a bad Confluent
#     frame,
#   - 5 late events (pipec produce again, event times in the first minutes, after the watermark passed their windows).
# Checked: exit status; the summary counters `pipec run` prints (records, decoded, rejected, dead-lettered, late);
# the features equal the replay of the good events alone (late rows dropped) and the replay's late count; the
# dead-letter topic holds exactly the bad records, each with its reason in a `dlq-reason` header and its original
# headers and payload.
#   tests/integration/run_bad_records.sh PIPEC        exit 0 pass, 1 fail, 77 skipped
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
DLQ=pipec_dead_letters
MESSAGE=com.doordash.timeline_events.StoreTimelineEvent
GOOD=examples/data/store_timeline_events.jsonl
cat > "$WORK/late.jsonl" <<'EOF'
{"_time": "2026-01-01T00:00:30Z", "storeId": "101", "hasStoreOrderConfirmedData": true}
{"_time": "2026-01-01T00:01:00Z", "storeId": "102", "hasStoreOrderConfirmedData": true}
{"_time": "2026-01-01T00:02:00Z", "storeId": "103", "hasStoreOrderConfirmedData": true}
{"_time": "2026-01-01T00:03:00Z", "storeId": "104", "hasStoreOrderConfirmedData": true}
{"_time": "2026-01-01T00:05:00Z", "storeId": "555", "hasStoreOrderConfirmedData": true}
EOF
# References: the good events alone (the features), and good + late in topic order (the late count).
"$PIPEC" run "$SPEC" --input "$GOOD" --output "$WORK/reference.jsonl" 2> /dev/null
last_values "$WORK/reference.jsonl" st saf_st_p20mi_order_count_sum_canary > "$WORK/expected.txt"
cat "$GOOD" "$WORK/late.jsonl" > "$WORK/with_late.jsonl"
"$PIPEC" run "$SPEC" --input "$WORK/with_late.jsonl" --output /dev/null 2> "$WORK/reference_late.log"
expected_late=$(sed -n 's/.* \([0-9]*\) late,.*/\1/p' "$WORK/reference_late.log")
[ "${expected_late:-0}" -gt 0 ] || { echo "FAIL the replay counts no late rows: the late events are not late"; exit 1; }

REDIS_PORT=$(free_port)
start_redis "$REDIS_PORT" || exit 1
start_broker "$TOPIC:1,$DLQ:1,$(changelog pipec-canary_store_order_count canary_store_order_count 1)" || exit 1
produce() { "$PIPEC" produce "$TOPIC" --brokers "$BROKERS" --from "$1" --proto-class "$MESSAGE" --key store_id 2>> "$WORK/produce.log" > /dev/null; }
produce "$GOOD" || { echo "FAIL pipec produce"; cat "$WORK/produce.log"; exit 1; }

# A valid payload of one good record, taken from the topic (kcat prints it raw with %s).
kcat -C -b "$BROKERS" -t "$TOPIC" -p 0 -o 0 -c 1 -e -q -f '%s' > "$WORK/valid.bin" 2> /dev/null
[ -s "$WORK/valid.bin" ] || { echo "FAIL could not read a payload back with kcat"; exit 1; }
NOW_MS=1767226000000  # inside the sample's hour: a plausible time, so only the payload or headers are wrong
printf '\xff\xfe\x07garbage\x00' > "$WORK/garbage.bin"
printf '\x0a\x40\x31\x30' > "$WORK/truncated.bin"  # field 1, length 64, but only 2 bytes follow
kcat_put() {  # kcat_put FILE HEADER... : one record whose payload is FILE (kcat sends a file argument as one message)
  local file=$1; shift
  local args=()
  for header in "$@"; do args+=(-H "$header"); done
  kcat -P -b "$BROKERS" -t "$TOPIC" -p 0 "${args[@]}" "$file"
}
kcat_put "$WORK/garbage.bin" "event-created-at=$NOW_MS" event-encoding=protobuf "event-schema=$MESSAGE" event-source=bad-1
kcat_put "$WORK/truncated.bin" "event-created-at=$NOW_MS" event-encoding=protobuf event-source=bad-2
kcat_put "$WORK/valid.bin"  # no envelope header at all: no event time
kcat_put "$WORK/valid.bin" "event-created-at=$NOW_MS" event-encoding=protobuf event-schema=com.example.Other event-source=bad-4
kcat_put "$WORK/valid.bin" "event-created-at=$NOW_MS" event-encoding=avro event-source=bad-5
kcat_put "$WORK/valid.bin" event-created-at=yesterday event-encoding=protobuf event-source=bad-6
kcat_put "$WORK/valid.bin" "event-created-at=$NOW_MS" event-encoding=confluent-protobuf event-source=bad-7
produce "$WORK/late.jsonl"
check "records on the topic" 252 "$(kcat -C -b "$BROKERS" -t "$TOPIC" -o beginning -e -q -f '%o\n' 2> /dev/null | wc -l)"

timeout 50 "$PIPEC" run "$SPEC" --brokers "$BROKERS" --until-end --sink redis --session-timeout 3000 \
  --dead-letter-topic "$DLQ" --set "sinks.prod_canary_features.address=127.0.0.1:$REDIS_PORT" > /dev/null 2> "$WORK/run.log"
check "pipec run exits 0 despite the bad records" 0 $?
check "summary: records" 252 "$(summary_count "$WORK/run.log" records)"
check "summary: decoded (good + late)" 245 "$(summary_count "$WORK/run.log" decoded)"
check "summary: rejected" 7 "$(summary_count "$WORK/run.log" rejected)"
check "summary: dead-lettered" 7 "$(summary_count "$WORK/run.log" dead-lettered)"
check "summary: late rows (as in the replay)" "$expected_late" "$(summary_count "$WORK/run.log" late)"
check "each rejection is logged with topic/partition@offset" 7 "$(grep -cE "rejected record $TOPIC/0@[0-9]+: " "$WORK/run.log")"

if [ "$(redis_values "$REDIS_PORT" "$FEATURE")" == "$(cat "$WORK/expected.txt")" ]; then
  echo "ok   the features equal the replay of the good events"
else
  echo "FAIL features differ from the replay of the good events (< redis, > reference)"
  diff <(redis_values "$REDIS_PORT" "$FEATURE") "$WORK/expected.txt" | head -10
  failures=$((failures + 1))
fi
check "no feature for the late-only store 555" 0 "$(redis-cli -p "$REDIS_PORT" exists "$FEATURE:555")"
check "every feature key has a TTL" 0 "$(keys_without_ttl "$REDIS_PORT" "$FEATURE")"

# The dead-letter topic: one record per bad record, with the reason and the original headers.
kcat -C -b "$BROKERS" -t "$DLQ" -o beginning -e -q -f '%h\n' 2> /dev/null > "$WORK/dlq_headers.txt"
reasons=$(grep -o 'dlq-reason=[a-z_]*' "$WORK/dlq_headers.txt" | sort | tr '\n' ' ')
check "dead-letter reasons" "dlq-reason=invalid_created_at dlq-reason=missing_time dlq-reason=schema_mismatch \
dlq-reason=undecodable_payload dlq-reason=undecodable_payload dlq-reason=undecodable_payload dlq-reason=unknown_encoding " "$reasons"
check "the corrupted payload is dead-lettered as undecodable" 1 \
  "$(grep -c 'event-source=bad-1.*dlq-reason=undecodable_payload' "$WORK/dlq_headers.txt")"
check "the bad Confluent frame is dead-lettered as undecodable" 1 \
  "$(grep -c 'event-source=bad-7.*dlq-reason=undecodable_payload' "$WORK/dlq_headers.txt")"
check "the record without headers is dead-lettered as missing_time" 1 "$(grep -cx 'dlq-reason=missing_time' "$WORK/dlq_headers.txt")"
kcat -C -b "$BROKERS" -t "$DLQ" -p 0 -o 0 -c 1 -e -q -f '%s' > "$WORK/dlq_first.bin" 2> /dev/null
check "the dead-lettered payload is the original bytes" ok "$(cmp -s "$WORK/dlq_first.bin" "$WORK/garbage.bin" && echo ok)"

echo "bad records: $failures failure(s)"
[ "$failures" = 0 ] || { echo "--- pipec run stderr:"; cat "$WORK/run.log"; }
[ "$failures" = 0 ]
