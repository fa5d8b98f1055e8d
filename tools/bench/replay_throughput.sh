#!/usr/bin/env bash
# Offline replay throughput (a benchmark, not a test): `pipec run SPEC --input FILE --output /dev/null` of the seed
# HOP feature (examples/store_order_count.yaml: HOP 20 s / 20 min, SUM per store) over generated events, for this
# build and a baseline build, alternating, in the same run; prints each run and the CPU-time ratio.
#   tools/bench/replay_throughput.sh PIPEC BASELINE_PIPEC [EVENTS=5000000]
#   env: SPEC (default examples/store_order_count.yaml; tools/bench/specs/hop_all_aggregates.yaml has COUNT, SUM, AVG,
#        MIN and MAX), STORES (default 10000), REPEATS (default 3), FORMATS (default "json binary"), KEEP_WORK=1, WORK=DIR (reuse
#        the generated files of an earlier run kept there)
# The events (two hours of event time in order, uniform random stores, as pipec_bench generates them) are written
# once, as JSON lines (`_time` in epoch millis: the seed spec reads its time from it) and as length-delimited binary
# Protobuf (`.ldpb`, its time in `created_at`: a copy of the seed spec with `time_field: created_at`), so the cost of
# JSON parsing can be told from the pipeline's: the binary decoder is several times cheaper.
# Measured: user + sys CPU seconds of each whole `pipec run` (reading the file, decoding, the pipeline, writing JSON
# rows to /dev/null), with /usr/bin/time. Both binaries must produce the same number of rows; the script checks it.
set -euo pipefail
PIPEC=$(realpath "$1")
BASELINE=$(realpath "$2")
EVENTS=${3:-5000000}
STORES=${STORES:-10000}
REPEATS=${REPEATS:-3}
FORMATS=${FORMATS:-json binary}
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
if [ -n "${WORK:-}" ]; then
  mkdir -p "$WORK"
  KEEP_WORK=1
else
  WORK=$(mktemp -d)
fi
trap '[ -n "${KEEP_WORK:-}" ] && echo "kept $WORK" || rm -rf "$WORK"' EXIT

SPEC=${SPEC:-examples/store_order_count.yaml}
# The binary input needs its time in the payload: the same spec, with `time_field: created_at`, next to the schemas
# and the environment file it resolves names with.
ln -sfn "$ROOT/schemas" "$WORK/schemas"
ln -sf "$ROOT/pipec.yaml" "$WORK/pipec.yaml"
sed 's/^\( *\)proto_class: \(.*\)$/\1proto_class: \2\n\1time_field: created_at/' "$SPEC" > "$WORK/store_order_count_created_at.yaml"

JSON="$WORK/events_${EVENTS}_${STORES}.jsonl"
LDPB="$WORK/events_${EVENTS}_${STORES}.ldpb"
if [ ! -s "$JSON" ] || [ ! -s "$LDPB" ]; then
  t0=$(date +%s.%N)
  python3 tools/bench/gen_store_events.py "$EVENTS" "$STORES" "$JSON" "$LDPB"
  t1=$(date +%s.%N)
  echo "generated $EVENTS events, $STORES stores: $(du -h "$JSON" | cut -f1) JSON lines, $(du -h "$LDPB" | cut -f1) binary ($(python3 -c "print(f'{$t1 - $t0:.1f}')") s)"
fi

# run_once BINARY FORMAT → "cpu_seconds wall_seconds rows max_rss_kb"
run_once() {
  local binary=$1 format=$2 spec input
  if [ "$format" = json ]; then spec=$SPEC; input=$JSON; else spec="$WORK/store_order_count_created_at.yaml"; input=$LDPB; fi
  /usr/bin/time -f '%U %S %e %M' -o "$WORK/time.txt" "$binary" run "$spec" --input "$input" --output /dev/null 2> "$WORK/run.err" ||
    { cat "$WORK/run.err" >&2; return 1; }
  local rows
  rows=$(grep -E '^[^ ]+: [0-9]+ records, ' "$WORK/run.err" | tail -1 | grep -oE '[0-9]+ rows out' | grep -oE '^[0-9]+')
  read -r user sys wall rss < "$WORK/time.txt"
  echo "$(python3 -c "print(f'{$user + $sys:.3f}')") $wall $rows $rss"
}

echo "replay of $SPEC: $EVENTS events, $STORES stores; current = $PIPEC, baseline = $BASELINE; $REPEATS alternating runs each"
for format in $FORMATS; do
  results=()
  for repeat in $(seq "$REPEATS"); do
    for which in baseline current; do
      binary=$PIPEC
      [ "$which" = baseline ] && binary=$BASELINE
      read -r cpu wall rows rss <<< "$(run_once "$binary" "$format")"
      printf '%-6s run %d %-8s  %6.2f s CPU  %6.2f s wall  %5.2f M events/s per core  %d rows out  max RSS %d MiB\n' \
        "$format" "$repeat" "$which" "$cpu" "$wall" "$(python3 -c "print($EVENTS / $cpu / 1e6)")" "$rows" $((rss / 1024))
      results+=("$which $cpu $rows")
    done
  done
  python3 - "$format" "${results[@]}" <<'PY'
import statistics, sys
fmt, entries = sys.argv[1], sys.argv[2:]
cpu = {"baseline": [], "current": []}
rows = {"baseline": set(), "current": set()}
for entry in entries:
    which, seconds, count = entry.split()
    cpu[which].append(float(seconds))
    rows[which].add(count)
pairs = [b / c for b, c in zip(cpu["baseline"], cpu["current"])]
print(f"{fmt}: current/baseline throughput = {statistics.median(pairs):.3f} (median of {len(pairs)} paired runs; "
      f"range {min(pairs):.3f}–{max(pairs):.3f}); best CPU: current {min(cpu['current']):.2f} s, baseline {min(cpu['baseline']):.2f} s"
      f" → {min(cpu['baseline']) / min(cpu['current']):.3f}")
if rows["baseline"] != rows["current"] or len(rows["current"]) != 1:
    print(f"WARNING: rows out differ: current {sorted(rows['current'])}, baseline {sorted(rows['baseline'])}")
PY
done
