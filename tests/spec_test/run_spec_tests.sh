#!/usr/bin/env bash
# Golden tests of `pipec test` (../shared/SPEC-TESTS.md). Run from the repository root:
#   tests/spec_test/run_spec_tests.sh PIPEC [--bless]
# - every example (examples/*.test.yaml) and every file of pass/ must pass (exit 0, no FAILED line);
# - the sample events of examples/data give each example exactly the rows `pipec run --input` gives;
# - cases/NAME.args → cases/NAME.expected: the output (stderr then stdout) and exit status of `pipec ARGS`, e.g. the
#   failing tests of fail/ with their exact failure output, in text and GitHub formats;
# - bless/orders.test.yaml, copied, goes through `pipec test --bless`: the rewritten file must equal
#   bless/orders.blessed.yaml, and pass when run again;
# - `--junit` output must validate against junit.xsd (xmllint) and equal junit.expected with times zeroed.
# --bless rewrites the expected files from the current output (review the diff before committing).
set -uo pipefail
PIPEC=$(realpath "$1")
BLESS=0
[ "${2:-}" = "--bless" ] && BLESS=1
cd "$(dirname "$0")/../.."
HERE=tests/spec_test
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0
passed=0

fail() {
  echo "FAIL $*"
  failed=$((failed + 1))
}

check() {  # NAME EXPECTED_FILE ACTUAL_TEXT
  local name=$1 expected=$2 actual=$3
  if [ "$BLESS" = 1 ]; then
    printf '%s' "$actual" > "$expected"
    return
  fi
  if [ ! -f "$expected" ]; then
    fail "$name: missing $expected (run with --bless)"
    return
  fi
  if diff -u "$expected" <(printf '%s' "$actual") > "$scratch/diff"; then
    passed=$((passed + 1))
  else
    fail "$name"
    cat "$scratch/diff"
  fi
}

# Tests that must pass.
for target in examples $HERE/pass; do
  output=$("$PIPEC" test "$target" --color never 2>&1)
  status=$?
  if [ "$status" != 0 ] || grep -q '^FAILED' <<< "$output" || ! grep -qE '^[1-9][0-9]* passed, 0 failed$' <<< "$output"; then
    fail "pipec test $target exited $status"
    echo "$output"
  else
    passed=$((passed + 1))
  fi
done
# Every example has a spec test.
for spec in examples/*.yaml; do
  case "$spec" in *.test.yaml) continue ;; esac
  [ -f "${spec%.yaml}.test.yaml" ] || fail "$spec has no spec test ${spec%.yaml}.test.yaml"
done

# Same rows as `pipec run --input`: the sample events of examples/data as a spec test (JSON lines are YAML flow maps),
# whose `rows` are exactly the rows the replay wrote.
for spec in examples/*.yaml; do
  case "$spec" in *.test.yaml) continue ;; esac
  name=$(basename "$spec" .yaml)
  "$PIPEC" run "$spec" --input examples/data/store_timeline_events.jsonl --output "$scratch/$name.rows.jsonl" 2> /dev/null ||
    { fail "pipec run --input $spec"; continue; }
  {
    echo "spec: $(realpath "$spec")"
    echo "tests:"
    echo "  - name: the rows of pipec run --input"
    echo "    events:"
    sed 's/^/      - /' examples/data/store_timeline_events.jsonl
    echo "    expect:"
    echo "      rows_exactly: true"
    if [ -s "$scratch/$name.rows.jsonl" ]; then
      echo "      rows:"
      sed 's/^/        - /' "$scratch/$name.rows.jsonl"
    else
      echo "      rows: []"
    fi
  } > "$scratch/$name.replay.test.yaml"
  rows=$(wc -l < "$scratch/$name.rows.jsonl")
  if output=$("$PIPEC" test "$scratch/$name.replay.test.yaml" --color never 2>&1) && [ "$rows" -gt 0 ]; then
    passed=$((passed + 1))
  else
    fail "pipec test and pipec run --input disagree on $spec ($rows rows)"
    echo "$output" | head -40
  fi
done

# Command lines with their exact output (failing tests, formats, usage errors).
for arguments_file in $HERE/cases/*.args; do
  read -r -a arguments < "$arguments_file"
  stdout_file="$scratch/stdout"
  errors=$("$PIPEC" "${arguments[@]}" 2>&1 >"$stdout_file")
  status=$?
  output=$errors
  if [ -s "$stdout_file" ]; then
    [ -z "$output" ] || output+=$'\n'
    output+=$(cat "$stdout_file")
  fi
  check "$arguments_file" "${arguments_file%.args}.expected" "$output
exit status: $status
"
done

# --bless round trips, one per bless/NAME.test.yaml, each on a copy (with the specs beside it, as the test file names
# them): the file must fail before; `--bless` prints bless/NAME.bless_output and leaves bless/NAME.blessed.yaml; run
# again, the blessed file passes (or, when --bless refused and left the file as it was, still fails).
mkdir -p "$scratch/bless"
cp -r $HERE/specs "$scratch/specs"
for original in $HERE/bless/*.test.yaml; do
  name=$(basename "$original" .test.yaml)
  copy=$scratch/bless/$name.test.yaml
  cp "$original" "$copy"
  "$PIPEC" test "$copy" -I schemas --color never > /dev/null 2>&1
  [ $? = 1 ] || fail "bless $name: the test file before --bless must fail"
  bless_output=$("$PIPEC" test "$copy" -I schemas --bless --color never 2>&1)
  bless_status=$?
  check "bless $name: output" $HERE/bless/$name.bless_output "${bless_output//$scratch/SCRATCH}
exit status: $bless_status
"
  check "bless $name: blessed file" $HERE/bless/$name.blessed.yaml "$(cat "$copy")
"
  after=$("$PIPEC" test "$copy" -I schemas --color never 2>&1)
  after_status=$?
  if cmp -s "$original" "$copy"; then
    [ "$after_status" = 1 ] && passed=$((passed + 1)) || fail "bless $name: the file --bless left unchanged must still fail"
  elif [ "$after_status" = 0 ] && grep -qE '^[1-9][0-9]* passed, 0 failed$' <<< "$after"; then
    passed=$((passed + 1))
  else
    fail "bless $name: the blessed test file does not pass"
    echo "$after"
  fi
done

# JUnit XML: the schema's shape, and the content with the times zeroed.
"$PIPEC" test $HERE/pass $HERE/fail $HERE/errors --junit "$scratch/junit.xml" > /dev/null 2>&1
[ $? = 1 ] || fail "junit: the run with failing tests must exit 1"
if command -v xmllint > /dev/null; then
  if xmllint --noout --schema $HERE/junit.xsd "$scratch/junit.xml" 2> "$scratch/xmllint"; then
    passed=$((passed + 1))
  else
    fail "junit: the report does not validate against $HERE/junit.xsd"
    cat "$scratch/xmllint"
  fi
else
  echo "note: xmllint not installed; the JUnit report's schema is not checked"
fi
check "junit" $HERE/junit.expected "$(sed -E 's/time="[0-9.]+"/time="0"/g' "$scratch/junit.xml")
"

if [ "$BLESS" = 1 ]; then
  echo "blessed"
  exit 0
fi
echo "spec tests: $passed passed, $failed failed"
[ "$failed" = 0 ]
