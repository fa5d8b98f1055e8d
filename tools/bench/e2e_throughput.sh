#!/usr/bin/env bash
# End-to-end throughput (a benchmark, not a test): events through the Kafka protocol (`pipec broker`) → `pipec run`
# (decode, HOP 20 s / 20 min per store: the seed feature) → a real redis-server.
#   tools/bench/e2e_throughput.sh PIPEC [EVENTS=2000000]
#   env: PARTITIONS (default: enough that every partition stays under the mock broker's ~5 MiB), PERF=1 (record a
#        perf profile of the pipec run into /tmp/e2e_perf.data), KEEP_WORK=1
# 1. `pipec produce --generate N` fills the topic first, unkeyed so partitions fill evenly (one pipec holds every
#    key whatever its partition; the generated StoreTimelineEvents are
#    ~250 bytes with their envelope headers; the embedded broker keeps only the newest ~5 MiB per partition, so the
#    topic gets as many partitions as needed to hold all N: nothing is dropped, checked by the record count).
# 2. `pipec run --until-end --sink redis` consumes it all, under /usr/bin/time -v. Reported:
#    - events/s over pipec's processing phase (first partition assigned → summary line; excludes the ~3 s
#      consumer-group join of the embedded broker), and over the whole run,
#    - pipec CPU seconds (user + sys) → events/s per pipec core.
# 3. The baseline, in the same run: pipec_kafka_floor (built next to pipec) consumes the same topic with pipec's own
#    consumer and settings and does nothing per record: the Kafka client's own cost, which pipec cannot go below.
set -euo pipefail
PIPEC=$(realpath "$1")
FLOOR=${FLOOR:-$(dirname "$PIPEC")/pipec_kafka_floor}
EVENTS=${2:-2000000}
cd "$(dirname "$0")/../.."
WORK=$(mktemp -d)
source tests/integration/lib.sh
PARTITIONS=${PARTITIONS:-$(( (EVENTS * 1000 / (4 * 1024 * 1024)) + 1 ))}
[ "$PARTITIONS" -ge 4 ] || PARTITIONS=4
REDIS_PID=""; BROKER_PID=""; RUN_PIDS=()
trap integration_cleanup EXIT
TOPIC=store_timeline_events
SPEC=examples/store_order_count.yaml

REDIS_PORT=$(free_port)
start_redis "$REDIS_PORT"
start_broker "$TOPIC:$PARTITIONS"
t0=$(date +%s.%N)
"$PIPEC" produce "$SPEC" --brokers "$BROKERS" --generate "$EVENTS" --seed 1 2> "$WORK/produce.err"
t1=$(date +%s.%N)
cat "$WORK/produce.err"
python3 -c "print(f'produced {$EVENTS} events to {$PARTITIONS} partitions in {$t1 - $t0:.2f} s ({$EVENTS / ($t1 - $t0) / 1e6:.2f} M events/s, pipec produce)')"

# Timestamped stderr: the processing phase runs from the first assignment to the summary line.
stamp() { while IFS= read -r line; do printf '%s %s\n' "$(date +%s.%N)" "$line"; done; }
perf_prefix=()
[ -n "${PERF:-}" ] && perf_prefix=(perf record ${PERF_ARGS:--g} -o /tmp/e2e_perf.data --)
/usr/bin/time -v -o "$WORK/time.txt" "${perf_prefix[@]}" "$PIPEC" run "$SPEC" --brokers "$BROKERS" --until-end --sink redis \
  --group bench --set "sinks.prod_canary_features.address=127.0.0.1:$REDIS_PORT" ${RUN_ARGS:-} > /dev/null 2> >(stamp > "$WORK/run.log")
sleep 0.5  # let the stamping process finish writing
sed 's/^[0-9.]* //' "$WORK/run.log" | tail -1
records=$(sed 's/^[0-9.]* //' "$WORK/run.log" | summary_count /dev/stdin records)
start=$(grep -m1 'assigned' "$WORK/run.log" | cut -d' ' -f1)
end=$(grep -E '^[0-9.]+ [^ ]+: [0-9]+ records, ' "$WORK/run.log" | tail -1 | cut -d' ' -f1)
wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/time.txt")
user=$(sed -n 's/.*User time (seconds): //p' "$WORK/time.txt")
sys=$(sed -n 's/.*System time (seconds): //p' "$WORK/time.txt")
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.txt")
echo "features in Redis: $(redis-cli -p "$REDIS_PORT" dbsize)"
[ "$records" = "$EVENTS" ] || echo "WARNING: pipec consumed $records records, not $EVENTS (did the broker drop some?)"
floor=""
if [ -x "$FLOOR" ]; then
  floor=$("$FLOOR" "$BROKERS" "$TOPIC" floor 2> "$WORK/floor.err" | grep '^records=') || { cat "$WORK/floor.err"; floor=""; }
fi
python3 - "$records" "$start" "$end" "$wall" "$user" "$sys" "$rss" "$floor" <<'PY'
import sys
records, start, end, wall, user, sys_, rss, floor = sys.argv[1:]
records = int(records)
parts = [float(p) for p in wall.split(":")]
wall_s = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
phase = float(end) - float(start)
cpu = float(user) + float(sys_)
print(f"pipec run: {records} events; whole run {wall_s:.2f} s wall ({records / wall_s / 1e6:.2f} M events/s, incl. group join)")
print(f"processing phase (assigned -> done): {phase:.2f} s = {records / phase / 1e6:.2f} M events/s  broker -> pipec -> Redis")
print(f"pipec CPU: {cpu:.2f} s (user {user}, sys {sys_}), max RSS {int(rss) // 1024} MiB = "
      f"{records / cpu / 1e6:.2f} M events/s per pipec core")
if floor:
    fields = dict(item.split("=") for item in floor.split())
    floor_records, floor_cpu = int(fields["records"]), float(fields["cpu_seconds"])
    print(f"baseline, same run: Kafka client floor (pipec_kafka_floor: same topic and consumer, no work per record): "
          f"{floor_records} events, {floor_cpu:.2f} s CPU = {floor_records / floor_cpu / 1e6:.2f} M events/s per core, "
          f"max RSS {int(fields['max_rss_kb']) // 1024} MiB")
    print(f"pipec CPU per event / floor CPU per event = {(cpu / records) / (floor_cpu / floor_records):.2f}")
else:
    print("baseline: pipec_kafka_floor not found next to pipec; no floor measured")
PY
