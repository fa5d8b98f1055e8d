#!/usr/bin/env bash
# `pipec proxy` throughput (a benchmark, not a test): records/s through the proxy into a Kafka-protocol broker
# (`pipec broker`), per request shape and answer mode, against the client floor measured in the same run.
#   tools/bench/proxy_throughput.sh PIPEC [RECORDS=20000]
#   env: CONNECTIONS (concurrent keep-alive HTTP connections, default 16), SHAPES (default
#        "v3:1 v3:100 v3:500 v3c:500 v2:100 v2:500"; v3c: the v3 body sent chunked, read as it arrives), MODES (default "sync async"), LOAD (the load client, default
#        pipec_proxy_load next to PIPEC), FLOOR (default pipec_proxy_produce_floor next to PIPEC), KEEP_WORK=1
# 1. The floor: `pipec produce --from EVENTS --key store_id` pushes the same StoreTimelineEvents (JSON in the Protobuf
#    JSON mapping → binary Protobuf with the envelope headers) straight through librdkafka: the cost of checking,
#    encoding and producing without HTTP, which the proxy cannot go below. Its CPU seconds (user + sys, whole process,
#    less those of a run of one record: start-up, spec compilation, connecting) give the floor's records/s per core.
# 2. Each scenario: pipec_proxy_load posts one request body (a v3 record, a v3 streaming body of N records, or a v2
#    json batch of N records, each record keyed by its store and, in v3, with its event-created-at header) again and
#    again over CONNECTIONS connections until RECORDS records are through (batch 1: at most 10000). Sync answers
#    after Kafka acknowledged, async (?async=true) once queued. Reported: records/s (wall), the proxy's CPU seconds
#    over the scenario (/proc/PID/stat), records/s per proxy core, request latency p50/p99, and the per-core rate as a
#    share of the floor's. Every request must be answered 200/202 with every record accepted, else the row says so.
# The client, the proxy and the broker share the machine: on a loaded machine wall rates fall with the other work,
# per-core rates much less.
set -euo pipefail
PIPEC=$(realpath "$1")
RECORDS=${2:-20000}
LOAD=${LOAD:-$(dirname "$PIPEC")/pipec_proxy_load}
FLOOR=${FLOOR:-$(dirname "$PIPEC")/pipec_proxy_produce_floor}
CONNECTIONS=${CONNECTIONS:-16}
SHAPES=${SHAPES:-v3:1 v3:100 v3:500 v3c:500 v2:100 v2:500}
MODES=${MODES:-sync async}
cd "$(dirname "$0")/../.."
WORK=$(mktemp -d)
source tests/integration/lib.sh
REDIS_PID=""; BROKER_PID=""; RUN_PIDS=()
trap integration_cleanup EXIT
[ -x "$LOAD" ] || { echo "no load client at $LOAD (cmake --build build --target pipec_proxy_load)"; exit 2; }
SPEC=examples/store_order_count.yaml
TOPIC=store_timeline_events
TICKS=$(getconf CLK_TCK)

python3 tools/bench/gen_store_events.py "$RECORDS" 1000 "$WORK/events.jsonl" "$WORK/events.ldpb"
start_broker "$TOPIC:8,proxy_canary:1" || exit 1

# --- 1. the floor ---------------------------------------------------------------------------------------------------
/usr/bin/time -f '%e %U %S' -o "$WORK/floor.time" \
  "$PIPEC" produce "$SPEC" --brokers "$BROKERS" --from "$WORK/events.jsonl" --key store_id > /dev/null 2> "$WORK/floor.err" \
  || { cat "$WORK/floor.err"; exit 1; }
read -r floor_wall floor_user floor_sys < "$WORK/floor.time"
# Its fixed cost (start, compiling the spec, loading the schemas, connecting) from a run of one record, taken off:
# the proxy pays it once at its own start, not per scenario.
head -1 "$WORK/events.jsonl" > "$WORK/one.jsonl"
/usr/bin/time -f '%e %U %S' -o "$WORK/start.time" \
  "$PIPEC" produce "$SPEC" --brokers "$BROKERS" --from "$WORK/one.jsonl" --key store_id > /dev/null 2>> "$WORK/floor.err"
read -r start_wall start_user start_sys < "$WORK/start.time"
kafka_floor="none"
if [ -x "$FLOOR" ]; then
  kafka_floor=$("$FLOOR" "$BROKERS" "$TOPIC" "$WORK/events.ldpb" 2>> "$WORK/floor.err") || kafka_floor="none"
fi

# --- 2. the proxy -----------------------------------------------------------------------------------------------------
"$PIPEC" proxy "$SPEC" --listen 127.0.0.1:0 --brokers "$BROKERS" --no-access-log --max-records 1000 \
  --canary-topic proxy_canary > "$WORK/proxy.out" 2> "$WORK/proxy.err" &
PROXY_PID=$!
RUN_PIDS+=("$PROXY_PID")
wait_for 20 grep -q '^listening on ' "$WORK/proxy.out" || { cat "$WORK/proxy.err"; exit 1; }
URL=$(sed -n 's/^listening on //p' "$WORK/proxy.out")
wait_for 30 curl -sf "$URL/readyz" -o /dev/null || { echo "the proxy never became ready"; cat "$WORK/proxy.err"; exit 1; }

# The request bodies, from the same events as the floor's.
python3 - "$WORK/events.jsonl" "$WORK" <<'PY'
import base64, json, sys
events_path, work = sys.argv[1], sys.argv[2]
events = []
for line in open(events_path):
    if len(events) == 500:
        break
    event = json.loads(line)
    time = str(event.pop("_time"))
    events.append((time, event))
def v3(time, event):
    return json.dumps({"headers": [{"name": "event-created-at", "value": base64.b64encode(time.encode()).decode()}],
                       "key": {"type": "STRING", "data": str(event["storeId"])},
                       "value": {"type": "JSON", "data": event}}, separators=(",", ":"))
for n in (1, 100, 500):
    with open(f"{work}/v3_{n}.json", "w") as out:
        out.write("\n".join(v3(*e) for e in events[:n]))
    with open(f"{work}/v2_{n}.json", "w") as out:
        out.write(json.dumps({"records": [{"key": str(e["storeId"]), "value": e} for _, e in events[:n]]},
                             separators=(",", ":")))
PY

cpu_ticks() { awk '{print $14 + $15}' "/proc/$PROXY_PID/stat"; }
RESULTS="$WORK/results.txt"
: > "$RESULTS"
for shape in $SHAPES; do
  api=${shape%%:*}
  batch=${shape##*:}
  for mode in $MODES; do
    total=$RECORDS
    [ "$batch" != 1 ] || [ "$total" -le 10000 ] || total=10000
    requests=$(( (total + batch - 1) / batch ))
    chunked=""
    file="$WORK/${api}_$batch.json"
    if [ "$api" = v3 ] || [ "$api" = v3c ]; then
      path="/v3/clusters/default/topics/$TOPIC/records"
      type=application/json
      [ "$api" = v3 ] || { chunked=chunked; file="$WORK/v3_$batch.json"; }
    else
      path="/topics/$TOPIC"
      type=application/vnd.kafka.json.v2+json
    fi
    [ "$mode" = sync ] || path="$path?async=true"
    before=$(cpu_ticks)
    line=$("$LOAD" "$URL" "$path" "$type" "$file" "$batch" "$requests" "$CONNECTIONS" $chunked) || true
    after=$(cpu_ticks)
    # Async records may still be in flight: let the producer drain so the next scenario starts clean.
    [ "$mode" = sync ] || sleep 1
    echo "$api $batch $mode $(( after - before )) $line" >> "$RESULTS"
    echo "== $api batch $batch $mode: $line"
  done
done

python3 - "$RESULTS" "$RECORDS" "$floor_wall" "$floor_user" "$floor_sys" "$TICKS" "$CONNECTIONS" "$start_wall" "$start_user" "$start_sys" "$kafka_floor" <<'PY'
import sys
path, records = sys.argv[1], int(sys.argv[2])
floor_wall, floor_cpu = float(sys.argv[3]), float(sys.argv[4]) + float(sys.argv[5])
ticks, connections = int(sys.argv[6]), sys.argv[7]
start_wall, start_cpu = float(sys.argv[8]), float(sys.argv[9]) + float(sys.argv[10])
floor_rate = records / max(floor_cpu - start_cpu, 0.01)
kafka = dict(item.split("=", 1) for item in sys.argv[11].split()) if sys.argv[11] != "none" else None
kafka_rate = int(kafka["records"]) / float(kafka["cpu_seconds"]) if kafka else None
print()
print(f"floor: pipec produce, {records} records in {floor_wall:.2f} s wall ({records / floor_wall:,.0f} records/s), "
      f"{floor_cpu:.2f} CPU s, less {start_cpu:.2f} CPU s of start-up (a run of one record) → {floor_rate:,.0f} "
      f"records/s per core")
if kafka:
    print(f"Kafka floor: pipec_proxy_produce_floor, {kafka['records']} pre-encoded records in {float(kafka['seconds']):.2f} s "
          f"wall, {float(kafka['cpu_seconds']):.2f} CPU s → {kafka_rate:,.0f} records/s per core")
print(f"proxy: {connections} connections")
print(f"{'api':<4} {'batch':>5} {'mode':<5} {'records':>8} {'wall s':>7} {'records/s':>10} {'proxy CPU s':>11} "
      f"{'rec/s/core':>10} {'vs floor':>8} {'vs Kafka':>8} {'p50 ms':>7} {'p99 ms':>7}  status")
for line in open(path):
    parts = line.split()
    api, batch, mode, cpu_ticks = parts[0], int(parts[1]), parts[2], int(parts[3])
    fields = dict(item.split("=", 1) for item in parts[4:])
    if "records" not in fields:
        print(f"{api:<4} {batch:>5} {mode:<5} the load client failed: {' '.join(parts[4:])}")
        continue
    n, wall = int(fields["records"]), float(fields["seconds"])
    cpu = cpu_ticks / ticks
    per_core = n / cpu if cpu > 0 else float("nan")
    status = "ok" if fields["failed"] == "0" else f"FAILED {fields['failed']} ({fields['statuses']})"
    print(f"{api:<4} {batch:>5} {mode:<5} {n:>8} {wall:>7.2f} {n / wall:>10,.0f} {cpu:>11.2f} {per_core:>10,.0f} "
          f"{per_core / floor_rate:>7.0%} {(f'{per_core / kafka_rate:.0%}' if kafka_rate else '-'):>8} "
          f"{float(fields['p50_ms']):>7.2f} {float(fields['p99_ms']):>7.2f}  {status}")
print("(vs floor: the proxy's records/s per core as a share of pipec produce's, the issue's floor, with its target of >= 50% "
      "with batches of 500; vs Kafka: as a share of the proxy's producer alone on pre-encoded records)")
PY
