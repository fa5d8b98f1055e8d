#!/usr/bin/env bash
# End-to-end throughput (a benchmark, not a test): events through the Kafka protocol (`pipec broker`) → `pipec run`
# (decode, HOP 20 s / 20 min per store: the seed feature) → a real redis-server, with checkpoints on.
#   tools/bench/e2e_throughput.sh [--exchange] PIPEC [EVENTS=2000000]
#   --exchange: the repartition exchange (docs/exchange.md) instead of the checkpoint intervals: per round, the seed
#     spec with `key_field: store_id` (no exchange) and without it (an exchange by store_id, both stages in the one
#     process), same topic, checkpoints every 10 s; reported: the exchange run's events/s per pipec core against the
#     run without it, and the bytes per event on the repartition topic. EXCHANGE_INTERVAL: their checkpoint interval
#     (default 10000; `off` = none during the run); PERF=1 profiles the first exchange run.
#   env: BASELINE=PIPEC (another build, e.g. the runtime before a change: run on the same topic in the same run and
#          compared against its own client floor; it writes no checkpoints if it predates them; it reads the
#          pipec.yaml of the tree it was built from, or BASELINE_ENV),
#        INTERVALS (checkpoint intervals in ms of this build's runs, default "off 10000 1000 250"; `off` is 10^9 ms:
#          no checkpoint during the run), REPEATS (rounds of all the runs, default 1),
#        PARTITIONS (default: enough that every partition stays under the mock broker's ~5 MiB), PERF=1 (record a
#        perf profile of the first run of this build into /tmp/e2e_perf.data; PERF=2 also of the first baseline run,
#        into /tmp/e2e_perf_baseline.data), KEEP_WORK=1
# 1. `pipec produce --generate N --key store_id --id-count STORES` fills the topic first, keyed by the GROUP BY key
#    as the task-per-partition runtime needs (each partition's task aggregates only its own records: an unkeyed topic
#    gives partial aggregates per partition, and as many feature writes per window as partitions holding the key).
#    STORES (default 10000) keeps the partitions even enough; KEYED=0 produces unkeyed with 100 stores, the workload
#    of the runtime before tasks. The generated StoreTimelineEvents are ~250 bytes with their envelope headers, one
#    ms of event time apart; the embedded broker keeps only the newest ~5 MiB per partition, so the topic gets as
#    many partitions as needed to hold all N: nothing is dropped, checked by the record count.
# 2. Each run: `pipec run --until-end --sink redis --group G` consumes it all from the start under its own consumer
#    group G (so its own changelog topic `G-<job>-changelog`, created on the broker beforehand with the source's
#    partition count: the embedded broker cannot create topics for a client), under /usr/bin/time -v. Reported:
#    - events/s over pipec's processing phase (first partition assigned → summary line; excludes the ~3 s
#      consumer-group join of the embedded broker),
#    - pipec CPU seconds (user + sys) → events/s per pipec core,
#    - checkpoints, changelog records and bytes (the job's log line), bytes per event, and the time the job spent
#      writing checkpoints and committing them,
#    - the feature keys in Redis (without the guard's `pipec-window-end` companion keys), which every run must
#      agree on; Redis is emptied between runs.
# 3. The floor, right before each run: pipec_kafka_floor (built next to each pipec) consumes the same topic with
#    that build's consumer and settings and does nothing per record: the Kafka client's own cost, which pipec cannot
#    go below. "pipec CPU per event / floor CPU per event" is the figure compared across builds.
# 4. The checkpoint overhead: each interval's CPU per event against the `off` run's (same build, same round).
set -euo pipefail
EXCHANGE=0
if [ "${1:-}" = --exchange ]; then EXCHANGE=1; shift; fi
PIPEC=$(realpath "$1")
FLOOR=${FLOOR:-$(dirname "$PIPEC")/pipec_kafka_floor}
EVENTS=${2:-2000000}
BASELINE=${BASELINE:+$(realpath "$BASELINE")}
BASELINE_FLOOR=${BASELINE:+$(dirname "$BASELINE")/pipec_kafka_floor}
# The baseline's environment file: BASELINE_ENV, else the pipec.yaml of the source tree it was built from.
BASELINE_ENV=${BASELINE_ENV:-}
if [ -n "$BASELINE" ] && [ -z "$BASELINE_ENV" ]; then
  baseline_source=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$(dirname "$BASELINE")/../CMakeCache.txt" 2> /dev/null || true)
  [ -n "$baseline_source" ] && [ -f "$baseline_source/pipec.yaml" ] && BASELINE_ENV=$baseline_source/pipec.yaml
fi
INTERVALS=${INTERVALS:-off 10000 1000 250}
REPEATS=${REPEATS:-1}
cd "$(dirname "$0")/../.."
WORK=$(mktemp -d)
source tests/integration/lib.sh
PARTITIONS=${PARTITIONS:-$(( (EVENTS * 1000 / (4 * 1024 * 1024)) + 1 ))}
[ "$PARTITIONS" -ge 4 ] || PARTITIONS=4
REDIS_PID=""; BROKER_PID=""; RUN_PIDS=()
trap integration_cleanup EXIT
TOPIC=store_timeline_events
SPEC=examples/store_order_count.yaml
JOB=$(sed -n 's/^  - name: *//p' "$SPEC" | head -1)
FEATURE=$(sed -n '/^features:/,$ s/^  - name: *//p' "$SPEC" | head -1)

# The runs: "NAME BINARY FLOOR INTERVAL_MS ROUND SPEC" per line, each round.
RUNS=()
# The baseline may predate `key_field` (issue 12): its copy of the spec goes without it (same query, same topic).
BASELINE_SPEC=$WORK/baseline.yaml
sed '/^ *key_field:/d' "$SPEC" > "$BASELINE_SPEC"
if [ "$EXCHANGE" = 1 ]; then
  python3 - "$SPEC" "$WORK" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
text = re.sub(r"\n *key_field:[^\n]*", "", text)
anchor = 'proto_class: "com.doordash.timeline_events.StoreTimelineEvent"\n'
assert anchor in text
open(f"{sys.argv[2]}/exchange.yaml", "w").write(text)
indent = text[:text.index(anchor)].rsplit("\n", 1)[1]
open(f"{sys.argv[2]}/keyed.yaml", "w").write(text.replace(anchor, anchor + indent + "key_field: store_id\n", 1))
PY
  for round in $(seq "$REPEATS"); do
    RUNS+=("keyed $PIPEC $FLOOR ${EXCHANGE_INTERVAL:-10000} r$round $WORK/keyed.yaml")
    RUNS+=("exchange $PIPEC $FLOOR ${EXCHANGE_INTERVAL:-10000} r$round $WORK/exchange.yaml")
  done
else
  for round in $(seq "$REPEATS"); do
    [ -n "$BASELINE" ] && RUNS+=("baseline $BASELINE $BASELINE_FLOOR off r$round $BASELINE_SPEC")
    for interval in $INTERVALS; do RUNS+=("ckpt-$interval $PIPEC $FLOOR $interval r$round $SPEC"); done
  done
fi
topics="$TOPIC:$PARTITIONS"
for run in "${RUNS[@]}"; do
  read -r name _ _ _ round _ <<< "$run"
  topics+=",$(changelog "bench-$round-$name" "$JOB" "$PARTITIONS")"
  [ "$name" != exchange ] || topics+=",bench-$round-$name-$JOB-repartition:$PARTITIONS"
done

REDIS_PORT=$(free_port)
start_redis "$REDIS_PORT"
start_broker "$topics"
t0=$(date +%s.%N)
produce_args=(--key store_id --id-count "${STORES:-10000}")
[ "${KEYED:-1}" = 1 ] || produce_args=()
"$PIPEC" produce "$SPEC" --brokers "$BROKERS" --generate "$EVENTS" --seed 1 "${produce_args[@]}" 2> "$WORK/produce.err"
t1=$(date +%s.%N)
cat "$WORK/produce.err"
echo "produce: ${produce_args[*]:-unkeyed, 100 stores}"
python3 -c "print(f'produced {$EVENTS} events to {$PARTITIONS} partitions in {$t1 - $t0:.2f} s ({$EVENTS / ($t1 - $t0) / 1e6:.2f} M events/s, pipec produce)')"

# Timestamped stderr: the processing phase runs from the first assignment to the summary line.
stamp() { while IFS= read -r line; do printf '%s %s\n' "$(date +%s.%N)" "$line"; done; }
RESULTS="$WORK/results.txt"
: > "$RESULTS"
first_current=1
for run in "${RUNS[@]}"; do
  read -r name binary floor_binary interval round spec <<< "$run"
  floor=""
  if [ -x "$floor_binary" ]; then
    floor=$("$floor_binary" "$BROKERS" "$TOPIC" "floor-$round-$name" 2> "$WORK/floor.err" | grep '^records=') || { cat "$WORK/floor.err"; floor=""; }
  fi
  redis-cli -p "$REDIS_PORT" flushall > /dev/null
  args=()
  [ "$interval" != off ] || interval=1000000000
  [ "$name" = baseline ] || args=(--checkpoint-interval "$interval")
  # An older build may not know keys that this tree's pipec.yaml has since gained: it reads its own tree's.
  [ "$name" != baseline ] || args=(--proto-path schemas)
  [ "$name" != baseline ] || [ -z "$BASELINE_ENV" ] || args+=(--env-file "$BASELINE_ENV")
  # The specs of --exchange are written to the scratch directory: the repository's environment and schemas.
  [ "$EXCHANGE" = 0 ] || args+=(--env-file pipec.yaml --proto-path schemas)
  perf_prefix=()
  if [ -n "${PERF:-}" ] && [ "$name" != baseline ] && [ "$first_current" = 1 ] && { [ "$EXCHANGE" = 0 ] || [ "$name" = exchange ]; }; then
    perf_prefix=(perf record ${PERF_ARGS:--g} -o /tmp/e2e_perf.data --)
  elif [ "${PERF:-}" = 2 ] && [ "$name" = baseline ] && [ "$round" = r1 ]; then
    perf_prefix=(perf record ${PERF_ARGS:--g} -o /tmp/e2e_perf_baseline.data --)
  fi
  if [ "$name" != baseline ] && { [ "$EXCHANGE" = 0 ] || [ "$name" = exchange ]; }; then first_current=0; fi
  /usr/bin/time -v -o "$WORK/time.txt" "${perf_prefix[@]}" "$binary" run "$spec" --brokers "$BROKERS" --until-end --sink redis \
    --group "bench-$round-$name" --set "sinks.prod_canary_features.address=127.0.0.1:$REDIS_PORT" "${args[@]}" ${RUN_ARGS:-} \
    > /dev/null 2> >(stamp > "$WORK/run.log")
  sleep 0.5  # let the stamping process finish writing
  sed 's/^[0-9.]* //' "$WORK/run.log" > "$WORK/run.txt"
  echo "== $round $name ($binary${args[*]:+ ${args[*]}})"
  grep -E 'checkpoint\(s\)|checkpoints took|\(stage 1\)' "$WORK/run.txt" || true
  tail -1 "$WORK/run.txt"
  records=$(summary_count "$WORK/run.txt" records)
  commits=$(summary_count "$WORK/run.txt" commits)
  start=$(grep -m1 'assigned' "$WORK/run.log" | cut -d' ' -f1)
  end=$(grep -E '^[0-9.]+ [^ ]+: [0-9]+ records, ' "$WORK/run.log" | tail -1 | cut -d' ' -f1)
  user=$(sed -n 's/.*User time (seconds): //p' "$WORK/time.txt")
  sys=$(sed -n 's/.*System time (seconds): //p' "$WORK/time.txt")
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.txt")
  # job X: N checkpoint(s), N changelog record(s) (N bytes) to `T`  /  job X: checkpoints took N ms (...)
  ckpt=$(grep -oE '[0-9]+ checkpoint\(s\), [0-9]+ changelog record\(s\) \([0-9]+ bytes\)' "$WORK/run.txt" | tr -dc '0-9 ' | tr -s ' ' || true)
  [ -n "$ckpt" ] || ckpt="0 0 0"
  ckpt_ms=$(grep -oE 'checkpoints took [0-9]+ ms' "$WORK/run.txt" | grep -oE '[0-9]+' || echo -1)
  # job X (stage 1): ... N row(s) and N marker(s) to `T` (N bytes)
  exchange_bytes=$(grep -oE 'marker\(s\) to `[^`]*` \([0-9]+ bytes\)' "$WORK/run.txt" | grep -oE '[0-9]+ bytes' | grep -oE '[0-9]+' || echo 0)
  all_keys=$(redis-cli -p "$REDIS_PORT" dbsize)
  companions=$(redis-cli -p "$REDIS_PORT" --scan --pattern 'pipec-window-end*' | wc -l)
  features=$(redis-cli -p "$REDIS_PORT" --scan --pattern "$FEATURE:*" | wc -l)
  echo "Redis: $all_keys keys = $features feature keys + $companions window-end companions + $((all_keys - features - companions)) other"
  [ "$records" = "$EVENTS" ] || echo "WARNING: pipec consumed $records records, not $EVENTS (did the broker drop some?)"
  echo "$round $name $interval $records $start $end $user $sys $rss $features $commits $ckpt $ckpt_ms $exchange_bytes ${floor:-none}" >> "$RESULTS"
done

python3 - "$RESULTS" "$PARTITIONS" <<'PY'
import statistics, sys
path, partitions = sys.argv[1], int(sys.argv[2])
rows = []
for line in open(path):
    parts = line.split()
    round_, name, interval = parts[0], parts[1], parts[2]
    records = int(parts[3]); start, end = float(parts[4]), float(parts[5])
    cpu = float(parts[6]) + float(parts[7])
    rss, features, commits = int(parts[8]), int(parts[9]), int(parts[10])
    task_checkpoints, cl_records, cl_bytes, ckpt_ms = int(parts[11]), int(parts[12]), int(parts[13]), int(parts[14])
    exchange_bytes = int(parts[15])
    floor = dict(item.split("=") for item in parts[16:]) if parts[16] != "none" else None
    # Each checkpoint of the job ends with one commit; a drained run's last commit is not a checkpoint.
    checkpoints = commits - 1 if task_checkpoints > 0 else 0
    rows.append(dict(round=round_, name=name, interval=interval, records=records, phase=end - start, cpu=cpu, rss=rss,
                     features=features, checkpoints=checkpoints, cl_records=cl_records, cl_bytes=cl_bytes, ckpt_ms=ckpt_ms,
                     floor=floor, exchange_bytes=exchange_bytes))
print()
print(f"{'round':<5} {'run':<15} {'events':>8} {'phase M/s':>9} {'CPU s':>6} {'M ev/s/core':>11} {'floor M/s/core':>14} "
      f"{'CPU/floor':>9} {'ckpts':>5} {'changelog B':>12} {'B/event':>7} {'ckpt ms':>7} {'RSS MiB':>7} {'features':>8}")
for r in rows:
    r["rate"] = r["records"] / r["cpu"]
    ratio = floor_rate = None
    if r["floor"]:
        floor_cpu, floor_records = float(r["floor"]["cpu_seconds"]), int(r["floor"]["records"])
        floor_rate = floor_records / floor_cpu
        ratio = (r["cpu"] / r["records"]) / (floor_cpu / floor_records)
    r["ratio"] = ratio
    print(f"{r['round']:<5} {r['name']:<15} {r['records']:>8} {r['records'] / r['phase'] / 1e6:>9.2f} {r['cpu']:>6.2f} "
          f"{r['rate'] / 1e6:>11.2f} {floor_rate / 1e6 if floor_rate else float('nan'):>14.2f} "
          f"{ratio if ratio else float('nan'):>9.2f} {r['checkpoints']:>5} {r['cl_bytes']:>12} "
          f"{r['cl_bytes'] / r['records']:>7.1f} {r['ckpt_ms'] if r['ckpt_ms'] >= 0 else '-':>7} {r['rss'] // 1024:>7} {r['features']:>8}")
print("(ckpts: the job's checkpoints (its commits but the drained run's last); B/event: changelog key + value bytes per event consumed;"
      " ckpt ms: time the job spent writing checkpoints to the changelog and committing them)")
if len({r["features"] for r in rows}) > 1:
    print("WARNING: the runs left different numbers of feature keys in Redis")
rounds = sorted({r["round"] for r in rows})
for round_ in rounds:
    mine = {r["name"]: r for r in rows if r["round"] == round_}
    if "exchange" in mine and "keyed" in mine:
        x, k = mine["exchange"], mine["keyed"]
        print(f"{round_} exchange: {x['rate'] / 1e6:.2f} M events/s per pipec core vs {k['rate'] / 1e6:.2f} without an exchange = "
              f"{x['rate'] / k['rate']:.2f}x (target >= 0.5); {x['exchange_bytes'] / x['records']:.1f} bytes per event on the "
              f"repartition topic (key + value, markers included)")
        continue
    off = mine.get("ckpt-off")
    base = mine.get("baseline")
    for name, r in mine.items():
        if name in ("ckpt-off", "baseline"):
            continue
        if off:
            extra = r["cpu"] / r["records"] - off["cpu"] / off["records"]
            n = r["checkpoints"]
            per = f", {extra * r['records'] / n * 1000:.0f} ms CPU per checkpoint" if n else ""
            print(f"{round_} {name}: checkpoint overhead {100 * extra / (off['cpu'] / off['records']):+.1f}% CPU per event vs no "
                  f"checkpoint ({n} checkpoint(s){per})")
        if base and base["ratio"] and r["ratio"]:
            print(f"{round_} {name}: events/s per core against the floor = {base['ratio'] / r['ratio']:.2f} × the baseline's "
                  f"(CPU/floor {r['ratio']:.2f} vs {base['ratio']:.2f})")
PY
