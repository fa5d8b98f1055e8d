#!/usr/bin/env bash
# A partition moves between two `pipec run` members whose watermarks differ (real broker protocol, real processes):
# every hourly window is emitted exactly once across the two members, none lost and none emitted twice.
#   behind: the member that leaves owns the partition whose events are hours behind the other one's. Its partition
#           moves to a member whose watermark is already past the windows still open there (they must still fire).
#   ahead:  the member that leaves owns the partition that is ahead; its partition moves to the member behind, which
#           must not emit again (partially) the windows the leaver already emitted, nor fire its own windows early.
# Each member writes its rows as JSON lines (--sink jsonl); the reference is an offline replay of the same events in
# time order. Stores 1-10 live in one partition and 11-20 in the other (produced with --partition).
#   tests/integration/run_group_handover.sh PIPEC        exit 0 pass, 1 fail, 77 skipped
set -uo pipefail
PIPEC=$(realpath "$1")
cd "$(dirname "$0")/../.."
WORK=$(mktemp -d)
source tests/integration/lib.sh
require_tools python3 curl

BROKER_PID=""
RUN_PIDS=()
cleanup() {
  for pid in "${RUN_PIDS[@]}"; do kill "$pid" 2> /dev/null; done
  [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2> /dev/null
  wait 2> /dev/null
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"; [ -n "${KEEP_WORK:-}" ] && echo "kept $WORK"
}
trap cleanup EXIT

SPEC=tests/integration/specs/store_hourly_windows.yaml
TOPIC=store_timeline_events

# Events in time order per partition. "ahead" stores get hours 0-4 before the move, "behind" stores hours 0-1.5;
# after the move both continue to hour 5. Then one flush event per store a day later moves every watermark on.
python3 - "$WORK" <<'PY'
import json, random, sys, datetime
work = sys.argv[1]
rng = random.Random(5)
base = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
def iso(t): return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")
def events(path, stores, start_h, end_h):
    with open(f"{work}/{path}", "w") as out:
        t = base + datetime.timedelta(hours=start_h)
        while True:
            t += datetime.timedelta(milliseconds=rng.randint(1000, 40000))
            if t >= base + datetime.timedelta(hours=end_h): break
            out.write(json.dumps({"_time": iso(t), "storeId": str(rng.choice(stores))}) + "\n")
ahead, behind = list(range(1, 11)), list(range(11, 21))
events("ahead1.jsonl", ahead, 0, 4)
events("behind1.jsonl", behind, 0, 1.5)
events("ahead2.jsonl", ahead, 4, 5)
events("behind2.jsonl", behind, 1.5, 5)
for name, stores in (("ahead", ahead), ("behind", behind)):
    with open(f"{work}/{name}_flush.jsonl", "w") as out:
        for store in stores:
            out.write(json.dumps({"_time": iso(base + datetime.timedelta(days=1)), "storeId": str(store)}) + "\n")
PY
# The reference: every (store, hour) window of the events, replayed offline in time order (nothing is late).
cat "$WORK"/ahead1.jsonl "$WORK"/behind1.jsonl "$WORK"/ahead2.jsonl "$WORK"/behind2.jsonl |
  python3 -c 'import sys, json; rows = [json.loads(l) for l in sys.stdin]; rows.sort(key=lambda r: r["_time"]); print("\n".join(json.dumps(r) for r in rows))' \
  > "$WORK/sorted.jsonl"
"$PIPEC" run "$SPEC" --input "$WORK/sorted.jsonl" --output "$WORK/reference.jsonl" 2> "$WORK/reference.log"
sort "$WORK/reference.jsonl" > "$WORK/expected.txt"
check "reference has windows of all 20 stores" 20 "$(python3 -c 'import sys, json; print(len({json.loads(l)["store_id"] for l in open(sys.argv[1])}))' "$WORK/reference.jsonl")"

records_in() {  # records_in METRICS_PORT
  curl -sf "http://127.0.0.1:$1/metrics" | sed -n 's/^pipec_records_in_total{[^}]*} \([0-9]*\).*/\1/p'
}
run_member() {  # run_member NAME METRICS_PORT GROUP → rows in $WORK/NAME.jsonl, log in $WORK/NAME.log
  "$PIPEC" run "$SPEC" --brokers "$BROKERS" --group "$3" --sink jsonl --commit-interval 300 --idle-timeout 0 \
    --session-timeout 3000 --metrics-port "$2" > "$WORK/$1.jsonl" 2> "$WORK/$1.log" &
  RUN_PIDS+=($!)
}
produce() {  # produce FILE PARTITION
  "$PIPEC" produce "$TOPIC" --brokers "$BROKERS" --from "$1" --partition "$2" \
    --proto-class com.doordash.timeline_events.StoreTimelineEvent 2>> "$WORK/produce.log" > /dev/null
}
lines() { cat "$@" | wc -l; }

handover() {  # handover CASE: CASE = behind | ahead (which member leaves)
  local case=$1 group="group-$1"
  rm -f "$WORK"/member-*.jsonl "$WORK"/member-*.log
  start_broker "$TOPIC:2,$(changelog "$group" store_hourly_windows 2)" || exit 1
  local port_a port_b
  port_a=$(free_port); port_b=$(free_port)
  run_member member-a "$port_a" "$group"
  wait_for 30 grep -q 'assigned 2 partition' "$WORK/member-a.log" || { echo "FAIL member a got no partitions"; cat "$WORK/member-a.log"; exit 1; }
  run_member member-b "$port_b" "$group"
  if ! wait_for 40 grep -q 'assigned 1 partition' "$WORK/member-b.log"; then
    echo "FAIL member b got no partition"; cat "$WORK/member-a.log" "$WORK/member-b.log"; exit 1
  fi
  sleep 2  # let the cooperative rebalance settle
  # Member b's partition gets the stores of the member that will leave: the "behind" ones or the "ahead" ones.
  local b_part a_part
  b_part=$(sed -n "s/.*assigned 1 partition(s): $TOPIC\/\([0-9]*\).*/\1/p" "$WORK/member-b.log" | tail -1)
  a_part=$((1 - b_part))
  local leaver_first leaver_second leaver_flush stayer_first stayer_second stayer_flush
  if [ "$case" = behind ]; then
    leaver_first=behind1; leaver_second=behind2; leaver_flush=behind_flush
    stayer_first=ahead1; stayer_second=ahead2; stayer_flush=ahead_flush
  else
    leaver_first=ahead1; leaver_second=ahead2; leaver_flush=ahead_flush
    stayer_first=behind1; stayer_second=behind2; stayer_flush=behind_flush
  fi
  produce "$WORK/$leaver_first.jsonl" "$b_part"
  produce "$WORK/$stayer_first.jsonl" "$a_part"
  local expect_b expect_a
  expect_b=$(lines "$WORK/$leaver_first.jsonl"); expect_a=$(lines "$WORK/$stayer_first.jsonl")
  if ! wait_for 30 bash -c "[ \"\$(curl -sf http://127.0.0.1:$port_b/metrics | sed -n 's/^pipec_records_in_total{[^}]*} \([0-9]*\).*/\1/p')\" -ge $expect_b ] &&
                            [ \"\$(curl -sf http://127.0.0.1:$port_a/metrics | sed -n 's/^pipec_records_in_total{[^}]*} \([0-9]*\).*/\1/p')\" -ge $expect_a ]"; then
    echo "FAIL $case: the members did not consume the first events ($(records_in "$port_a") / $(records_in "$port_b"))"
    cat "$WORK/member-a.log" "$WORK/member-b.log"; failures=$((failures + 1)); return
  fi
  sleep 1  # a periodic commit after the last record
  # Member b leaves (a graceful stop commits its partition with its watermark); member a takes the partition over.
  kill -TERM "${RUN_PIDS[1]}"; wait "${RUN_PIDS[1]}"; RUN_PIDS=("${RUN_PIDS[0]}")
  if ! wait_for 40 grep -q "assigned 1 partition(s): $TOPIC/$b_part; 1 restored from changelog" "$WORK/member-a.log"; then
    echo "FAIL $case: member a did not restore the moved partition from its checkpoint"
    cat "$WORK/member-a.log"; failures=$((failures + 1))
  else
    echo "ok   $case: member a restores the moved partition from its checkpoint in the changelog"
  fi
  produce "$WORK/$leaver_second.jsonl" "$b_part"
  produce "$WORK/$stayer_second.jsonl" "$a_part"
  produce "$WORK/$leaver_flush.jsonl" "$b_part"
  produce "$WORK/$stayer_flush.jsonl" "$a_part"
  local expected_rows
  expected_rows=$(lines "$WORK/expected.txt")
  wait_for 40 bash -c "[ \$(cat '$WORK'/member-*.jsonl | wc -l) -ge $expected_rows ]"
  sleep 1  # anything emitted twice would show up now
  kill -TERM "${RUN_PIDS[0]}"; wait "${RUN_PIDS[0]}"; RUN_PIDS=()
  if [ "$(cat "$WORK"/member-*.jsonl | sort)" == "$(cat "$WORK/expected.txt")" ]; then
    echo "ok   $case: every hourly window emitted exactly once across the two members ($expected_rows rows)"
  else
    echo "FAIL $case: the members' windows differ from the reference (< missing, > extra)"
    diff "$WORK/expected.txt" <(cat "$WORK"/member-*.jsonl | sort) | head -20
    echo "--- member a:"; tail -n 20 "$WORK/member-a.log"; echo "--- member b:"; tail -n 20 "$WORK/member-b.log"
    failures=$((failures + 1))
  fi
  kill "$BROKER_PID"; wait "$BROKER_PID" 2> /dev/null; BROKER_PID=""
}

handover behind
handover ahead

echo "group/handover: $failures failure(s)"
[ "$failures" = 0 ]
