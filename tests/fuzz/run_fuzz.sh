#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan/UBSan, in build-fuzz/) and fuzzes each one for a while,
# starting from its seeds: the repository's specs, SQL, records and spec tests. Run from anywhere:
#   tests/fuzz/run_fuzz.sh [TARGET...]      TARGET: spec sql record spec_test_file (default: all four)
#   tests/fuzz/run_fuzz.sh --build-only     only build them (tools/setup does, so that the `fuzz` test only fuzzes)
# Environment: PIPEC_FUZZ_SECONDS (per target, default 60), PIPEC_FUZZ_JOBS (targets at a time, default 2),
# PIPEC_FUZZ_BUILD_DIR (default build-fuzz). Exit 0 when no target found anything, 1 when one did (the reproducer's
# path and the command that replays it are printed), 77 (CTest: skipped) when clang++ or its libFuzzer is missing.
set -uo pipefail
cd "$(dirname "$0")/../.."
SOURCE_DIR=$PWD
SECONDS_EACH=${PIPEC_FUZZ_SECONDS:-60}
JOBS=${PIPEC_FUZZ_JOBS:-2}
BUILD_DIR=${PIPEC_FUZZ_BUILD_DIR:-build-fuzz}
BUILD_ONLY=0
if [ "${1:-}" = --build-only ]; then BUILD_ONLY=1; shift; fi
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(spec sql record spec_test_file)

if ! command -v clang++ > /dev/null 2>&1; then
  echo "fuzz: skipped: clang++ is not installed (tools/setup installs it)"
  exit 77
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# libFuzzer is in compiler-rt, packaged apart from clang on Debian (libclang-rt-dev).
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' > "$WORK/probe.cpp"
if ! clang++ -fsanitize=fuzzer,address,undefined "$WORK/probe.cpp" -o "$WORK/probe" > "$WORK/probe.log" 2>&1; then
  echo "fuzz: skipped: clang++ cannot link libFuzzer (install libclang-rt-dev; tools/setup does):"
  cat "$WORK/probe.log"
  exit 77
fi

echo "fuzz: building the targets with clang in $BUILD_DIR/"
start=$(date +%s)
# -O1 with line tables (stack traces with lines) and without NDEBUG: pipec's assertions stay on while fuzzing.
if ! cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" \
       -DCMAKE_CXX_COMPILER=clang++ -DPIPEC_FUZZ=ON > "$WORK/configure.log" 2>&1; then
  cat "$WORK/configure.log"
  echo "fuzz: FAILED: cannot configure the clang fuzz build"
  exit 1
fi
if ! cmake --build "$BUILD_DIR" -j"$(nproc)" --target fuzz_targets > "$WORK/build.log" 2>&1; then
  tail -n 60 "$WORK/build.log"
  echo "fuzz: FAILED: the fuzz targets do not build with clang"
  exit 1
fi
echo "fuzz: built in $(($(date +%s) - start)) s"
[ "$BUILD_ONLY" = 1 ] && exit 0

# Seeds: files of the repository, copied into one folder per target (libFuzzer reads every file of a folder).
seeds() {
  local target=$1 folder=$WORK/seeds/$1
  mkdir -p "$folder"
  case "$target" in
    spec)
      for file in examples/*.yaml tests/golden/errors/*.yaml tests/golden/plans/*.yaml; do
        [[ "$file" == *.test.yaml ]] || cp "$file" "$folder/$(echo "$file" | tr / _)"
      done ;;
    spec_test_file)
      find examples tests/spec_test tests/golden/cli -name '*.test.yaml' | while read -r file; do
        cp "$file" "$folder/$(echo "$file" | tr / _)"
      done
      # Findings: a flow mapping continued on a less indented line ended `--bless`'s expect block early.
      cp tests/fuzz/seeds/spec_test_file/* "$folder/" ;;
    sql|record)
      cp tests/fuzz/seeds/"$target"/* "$folder/" ;;
  esac
  echo "$folder"
}

max_length() {
  case "$1" in
    spec|spec_test_file) echo 16384 ;;
    sql) echo 4096 ;;
    record) echo 8192 ;;
  esac
}

ARTIFACTS=$SOURCE_DIR/$BUILD_DIR/fuzz-artifacts
mkdir -p "$ARTIFACTS"
fuzz_one() {
  local target=$1 binary=$SOURCE_DIR/$BUILD_DIR/tests/fuzz_$1
  local corpus=$SOURCE_DIR/$BUILD_DIR/fuzz-corpus/$1 log=$WORK/$1.log
  local seed_folder
  seed_folder=$(seeds "$target")
  mkdir -p "$corpus" "$WORK/run-$target"
  local dictionary=()
  [ -f "tests/fuzz/$target.dict" ] && dictionary=(-dict="$SOURCE_DIR/tests/fuzz/$target.dict")
  # New inputs go to the build tree's corpus (kept between runs); the seeds are read only. A finding is written under
  # $ARTIFACTS as crash-/timeout-/oom-<sha1>, prefixed with the target.
  (cd "$WORK/run-$target" && TMPDIR="$WORK/run-$target" \
     ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
     "$binary" -max_total_time="$SECONDS_EACH" -timeout=30 -rss_limit_mb=3072 -max_len="$(max_length "$target")" \
       -print_final_stats=1 -artifact_prefix="$ARTIFACTS/$target-" "${dictionary[@]}" "$corpus" "$seed_folder" > "$log" 2>&1)
  local status=$?
  local stats
  stats=$(grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$log" | tr '\n' ' ')
  local coverage
  coverage=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1)
  if [ "$status" -eq 0 ]; then
    echo "fuzz: ok      $target: ${SECONDS_EACH} s, $coverage, $stats"
    return 0
  fi
  echo "fuzz: FAILED  $target (exit $status)"
  tail -n 80 "$log"
  local reproducer
  reproducer=$(grep -oE 'Test unit written to [^ ]+' "$log" | tail -n 1 | sed 's/Test unit written to //')
  if [ -n "$reproducer" ]; then
    echo "fuzz: reproducer: $reproducer"
    echo "fuzz: replay it:  $BUILD_DIR/tests/fuzz_$target $reproducer"
  fi
  return 1
}

failed=0
running=0
for target in "${TARGETS[@]}"; do
  if [ ! -x "$BUILD_DIR/tests/fuzz_$target" ]; then
    echo "fuzz: no target $target (spec, sql, record, spec_test_file)"
    exit 2
  fi
done
echo "fuzz: ${#TARGETS[@]} targets, ${SECONDS_EACH} s each, $JOBS at a time"
for target in "${TARGETS[@]}"; do
  if [ "$running" -ge "$JOBS" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
  fuzz_one "$target" &
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
[ "$failed" = 0 ] && echo "fuzz: no findings" || echo "fuzz: FAILED: see the reproducers above"
exit "$failed"
