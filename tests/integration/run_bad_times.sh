#!/usr/bin/env bash
# One bad timestamp never freezes a job, and not-events are not events (issue 11, items 8 and 9). One partition holding:
#   - the issue's three events (pipec produce): 2026-01-01T00:00:00Z for store 1, the same instant in microseconds
#     for store 1 (year 57971 as milliseconds), and 30 s later for store 2;
#   - 40 tombstones (NULL values) and 40 empty values, with valid envelope headers (kcat).
# Checked: store 2 gets its feature (the microsecond record is rejected as time_in_future instead of moving the
# watermark to year 57971), the features equal the offline replay's, no other key exists (a NULL or empty value
# decoded as an event would make one), the summary and the per-reason metrics count each rejection, and the
# dead-letter topic holds the time_in_future record and the empty values but no tombstone.
#   tests/integration/run_bad_times.sh PIPEC        exit 0 pass, 1 fail, 77 skipped
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
cat > "$WORK/events.jsonl" <<'EOF2'
{"_time":1767225600000,"storeId":"1"}
{"_time":1767225600000000,"storeId":"1"}
{"_time":1767225630000,"storeId":"2"}
EOF2

# The reference: the offline replay, which must itself reject the microsecond record and give store 2 its rows.
"$PIPEC" run "$SPEC" --input "$WORK/events.jsonl" --output "$WORK/reference.jsonl" 2> "$WORK/replay.log"
check "replay: summary counts the time in the future" 1 "$(grep -oE '[0-9]+ time in future' "$WORK/replay.log" | grep -oE '^[0-9]+')"
last_values "$WORK/reference.jsonl" st saf_st_p20mi_order_count_sum_canary > "$WORK/expected.txt"
check "replay: stores 1 and 2 have features" "1 2" "$(cut -d' ' -f1 "$WORK/expected.txt" | tr '\n' ' ' | sed 's/ $//')"

REDIS_PORT=$(free_port)
start_redis "$REDIS_PORT" || exit 1
start_broker "$TOPIC:1,$DLQ:1,$(changelog pipec-canary_store_order_count canary_store_order_count 1)" || exit 1
"$PIPEC" produce "$TOPIC" --brokers "$BROKERS" --from "$WORK/events.jsonl" --proto-class "$MESSAGE" --key store_id \
  2> "$WORK/produce.log" > /dev/null || { echo "FAIL pipec produce"; cat "$WORK/produce.log"; exit 1; }
NOW_MS=1767225640000
headers=(-H "event-created-at=$NOW_MS" -H event-encoding=protobuf -H "event-schema=$MESSAGE" -H event-source=not-events)
# kcat sends each input line `KEY:VALUE` as one record (it skips lines that would be an empty record): an empty
# VALUE is an empty value, and with -Z a NULL one (a tombstone).
for _ in $(seq 40); do echo "ghost:"; done | kcat -P -b "$BROKERS" -t "$TOPIC" -p 0 -K: -Z "${headers[@]}" 2>> "$WORK/kcat.log"
for _ in $(seq 40); do echo "ghost:"; done | kcat -P -b "$BROKERS" -t "$TOPIC" -p 0 -K: "${headers[@]}" 2>> "$WORK/kcat.log"
kcat -C -b "$BROKERS" -t "$TOPIC" -o beginning -e -q -Z -f '%S\n' 2> /dev/null > "$WORK/sizes.txt"
check "records on the topic" 83 "$(wc -l < "$WORK/sizes.txt")"
check "tombstones on the topic (kcat -Z prints their size as -1)" 40 "$(grep -cx -- '-1' "$WORK/sizes.txt")"
check "empty values on the topic" 40 "$(grep -cx 0 "$WORK/sizes.txt")"

timeout 50 "$PIPEC" run "$SPEC" --brokers "$BROKERS" --until-end --sink redis --session-timeout 3000 \
  --dead-letter-topic "$DLQ" --set "sinks.prod_canary_features.address=127.0.0.1:$REDIS_PORT" \
  > /dev/null 2> "$WORK/run.log"
check "pipec run exits 0" 0 $?
check "summary: records" 83 "$(summary_count "$WORK/run.log" records)"
check "summary: decoded" 2 "$(summary_count "$WORK/run.log" decoded)"
check "summary: rejected" 81 "$(summary_count "$WORK/run.log" rejected)"
check "summary: dead-lettered (time_in_future + empty values, no tombstone)" 41 "$(summary_count "$WORK/run.log" dead-lettered)"
check "summary: late" 0 "$(summary_count "$WORK/run.log" late)"
check "the time_in_future rejection is logged" 1 "$(grep -c "rejected record $TOPIC/0@1: time_in_future" "$WORK/run.log")"
check "tombstones are logged as such" 10 "$(grep -c ": tombstone" "$WORK/run.log")"  # the first ten per reason

if [ "$(redis_values "$REDIS_PORT" "$FEATURE")" == "$(cat "$WORK/expected.txt")" ]; then
  echo "ok   store 2 has its feature, and the features equal the replay's"
else
  echo "FAIL features differ from the replay (< redis, > reference)"
  diff <(redis_values "$REDIS_PORT" "$FEATURE") "$WORK/expected.txt" | head -10
  failures=$((failures + 1))
fi
check "no key besides stores 1 and 2" "$FEATURE:1 $FEATURE:2" \
  "$(redis-cli -p "$REDIS_PORT" --scan --pattern "$FEATURE:*" | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')"

kcat -C -b "$BROKERS" -t "$DLQ" -o beginning -e -q -f '%h\n' 2> /dev/null > "$WORK/dlq_headers.txt"
check "dead-lettered as time_in_future" 1 "$(grep -c 'dlq-reason=time_in_future' "$WORK/dlq_headers.txt")"
check "dead-lettered as empty_value" 40 "$(grep -c 'dlq-reason=empty_value' "$WORK/dlq_headers.txt")"
check "no tombstone dead-lettered" 0 "$(grep -c 'dlq-reason=tombstone' "$WORK/dlq_headers.txt")"
echo "bad times: $failures failure(s)"
[ "$failures" = 0 ] || { echo "--- pipec run stderr:"; cat "$WORK/run.log"; }
[ "$failures" = 0 ]
