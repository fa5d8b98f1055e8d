#!/usr/bin/env bash
# End-to-end throughput (not a test): events through the Kafka protocol (pipec broker) → pipec run → Redis.
#   tools/bench/e2e_throughput.sh PIPEC [EVENTS=1000000] [STORES=10000]
# pipec runs the seed feature (HOP 20 s / 20 min) as a consumer-group member, writing features to a real
# redis-server; events (StoreTimelineEvent with envelope headers, keyed by store) are produced while it consumes,
# since the embedded broker keeps only ~5 MiB per partition. Reported: events/s of the whole run (wall) and
# events per second of pipec CPU time (per core), from /proc.
set -euo pipefail
PIPEC=$(realpath "$1")
EVENTS=${2:-1000000}
STORES=${3:-10000}
cd "$(dirname "$0")/../.."
WORK=$(mktemp -d)
source tests/integration/lib.sh
REDIS_PID=""; BROKER_PID=""; JOB_PID=""
cleanup() {
  for pid in $JOB_PID $BROKER_PID $REDIS_PID; do kill "$pid" 2> /dev/null || true; done
  wait 2> /dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

python3 - "$WORK/events.jsonl" "$EVENTS" "$STORES" <<'PY'
import json, random, sys
path, n, stores = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(1)
base = 1767225600000
span = 2 * 3600 * 1000
with open(path, "w") as out:
    for i in range(n):
        t = base + span * i // n
        out.write('{"_time": %d, "storeId": "%d", "hasStoreOrderConfirmedData": %s}\n'
                  % (t, rng.randrange(stores), "true" if rng.random() < 0.5 else "false"))
PY

REDIS_PORT=$(free_port)
METRICS_PORT=$(free_port)
start_redis "$REDIS_PORT"
start_broker "store_timeline_events:16"
"$PIPEC" run examples/store_order_count.yaml --brokers "$BROKERS" --sink redis --metrics-port "$METRICS_PORT" \
  --commit-interval 1000 --set "sinks.prod_canary_features.address=127.0.0.1:$REDIS_PORT" > /dev/null 2> "$WORK/job.err" &
JOB_PID=$!
wait_for 30 bash -c "curl -sf http://127.0.0.1:$METRICS_PORT/readyz > /dev/null"
start=$(date +%s.%N)
"$PIPEC" produce examples/store_order_count.yaml --brokers "$BROKERS" --from "$WORK/events.jsonl" --key store_id 2> "$WORK/produce.err"
records() { curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" | sed -n 's/^pipec_records_in_total{[^}]*} \([0-9]*\).*/\1/p'; }
wait_for 600 bash -c "[ \"\$(curl -sf http://127.0.0.1:$METRICS_PORT/metrics | sed -n 's/^pipec_records_in_total{[^}]*} \([0-9]*\).*/\1/p')\" -ge $EVENTS ]"
end=$(date +%s.%N)
read -r utime stime < <(awk '{print $14, $15}' "/proc/$JOB_PID/stat")
ticks=$(getconf CLK_TCK)
kill -TERM "$JOB_PID"; wait "$JOB_PID" || true; JOB_PID=""
cpu=$(python3 -c "print(($utime + $stime) / $ticks)")
wall=$(python3 -c "print($end - $start)")
echo "events: $EVENTS ($STORES stores), records consumed: $(tail -1 "$WORK/job.err" | sed -n 's/.*: \([0-9]*\) records.*/\1/p')"
tail -1 "$WORK/job.err"
echo "features in Redis: $(redis-cli -p "$REDIS_PORT" dbsize)"
python3 -c "print(f'wall (produce + consume, concurrent): {$wall:.2f} s = {$EVENTS / $wall / 1e6:.2f} M events/s')"
python3 -c "print(f'pipec CPU: {$cpu:.2f} s = {$EVENTS / $cpu / 1e6:.2f} M events/s per pipec core (broker -> decode -> HOP -> Redis)')"
