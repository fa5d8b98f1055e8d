#!/usr/bin/env bash
# The local dev loop with nothing running but Redis: `pipec run SPEC --seed FILE --until-end` in the `local`
# environment (pipec.yaml: the cluster is `embedded`), with no --brokers. pipec starts its embedded Kafka-protocol
# broker, seeds the topic from the sample events (envelope headers, binary Protobuf), consumes it to the end and, with
# the default `--sink auto`, writes the features to the (reachable) test Redis. Expected: the offline replay of the
# same file, with TTLs.
#   tests/integration/run_embedded_seed.sh PIPEC        exit 0 pass, 1 fail, 77 skipped
set -uo pipefail
PIPEC=$(realpath "$1")
cd "$(dirname "$0")/../.."
WORK=$(mktemp -d)
source tests/integration/lib.sh
require_tools redis-server redis-cli python3
REDIS_PID=""; BROKER_PID=""; RUN_PIDS=()
trap integration_cleanup EXIT

SPEC=examples/store_order_count.yaml
FEATURE=canary_store_order_count
EVENTS=examples/data/store_timeline_events.jsonl
"$PIPEC" run "$SPEC" --input "$EVENTS" --output "$WORK/reference.jsonl" 2> /dev/null
last_values "$WORK/reference.jsonl" st saf_st_p20mi_order_count_sum_canary > "$WORK/expected.txt"

REDIS_PORT=$(free_port)
start_redis "$REDIS_PORT" || exit 1
# No --brokers, no --sink: only the Redis address of the local environment is pointed at the test's server.
timeout 50 "$PIPEC" run "$SPEC" --env local --seed "$EVENTS" --until-end --session-timeout 3000 \
  --set "sinks.prod_canary_features.address=127.0.0.1:$REDIS_PORT" > "$WORK/run.out" 2> "$WORK/run.log"
check "pipec run exits 0" 0 $?
check "pipec started its embedded broker" 1 "$(grep -c '^started the embedded Kafka-protocol broker at ' "$WORK/run.log")"
check "pipec seeded the topic" 1 "$(grep -c "^seeded \`store_timeline_events\` with $(wc -l < "$EVENTS") events from " "$WORK/run.log")"
check "pipec chose the reachable Redis" 1 "$(grep -c "writing features to Redis sink \`prod_canary_features\` at 127.0.0.1:$REDIS_PORT" "$WORK/run.log")"
check "summary: records" "$(wc -l < "$EVENTS")" "$(summary_count "$WORK/run.log" records)"
check "summary: rejected" 0 "$(summary_count "$WORK/run.log" rejected)"
if [ "$(redis_values "$REDIS_PORT" "$FEATURE")" == "$(cat "$WORK/expected.txt")" ]; then
  echo "ok   the features in Redis equal the replay of the seed file ($(wc -l < "$WORK/expected.txt") stores)"
else
  echo "FAIL features differ from the replay of the seed file (< redis, > reference)"
  diff <(redis_values "$REDIS_PORT" "$FEATURE") "$WORK/expected.txt" | head -10
  failures=$((failures + 1))
fi
check "every feature key has a TTL" 0 "$(keys_without_ttl "$REDIS_PORT" "$FEATURE")"

echo "embedded seed: $failures failure(s)"
[ "$failures" = 0 ] || { echo "--- pipec run stderr:"; cat "$WORK/run.log"; }
[ "$failures" = 0 ]
