#!/usr/bin/env bash
# Golden tests as data. Run from the repository root:
#   tests/golden/run_golden.sh PIPEC [--bless] [FILTER]
# errors/NAME.yaml  → errors/NAME.expected: `pipec validate` diagnostics (text) and exit status
# plans/NAME.yaml   → plans/NAME.expected: logical, optimized and physical plans from `pipec explain`
# cli/NAME.args     → cli/NAME.expected: the output (stderr then stdout) and exit status of `pipec ARGS`, ARGS being
#                     the file's one line, split at spaces (flags such as --deny-warnings, --env, --format github)
# schema/NAME.args  → schema/NAME.expected: the same, for `pipec schema check` (schema/base/ is the old tree every
#                     case is compared with, schema/NAME/ the new one, schema/specs/ the features)
# --bless rewrites the expected files from the current output (review the diff before committing).
set -uo pipefail
PIPEC=$1
shift
BLESS=0
FILTER=""
for argument in "$@"; do
  case "$argument" in
    --bless) BLESS=1 ;;
    *) FILTER=$argument ;;
  esac
done
cd "$(dirname "$0")/../.."

failed=0
passed=0

check() {
  local name=$1 expected=$2 actual=$3
  if [ "$BLESS" = 1 ]; then
    printf '%s' "$actual" > "$expected"
    return
  fi
  if [ ! -f "$expected" ]; then
    echo "MISSING $expected (run with --bless)"
    failed=$((failed + 1))
    return
  fi
  if diff -u "$expected" <(printf '%s' "$actual") > /tmp/golden_diff.$$; then
    passed=$((passed + 1))
  else
    echo "FAIL $name"
    cat /tmp/golden_diff.$$
    failed=$((failed + 1))
  fi
  rm -f /tmp/golden_diff.$$
}

for spec in tests/golden/errors/*.yaml; do
  [ -e "$spec" ] || continue
  [[ -z "$FILTER" || "$spec" == *"$FILTER"* ]] || continue
  output=$("$PIPEC" validate "$spec" --color never 2>&1)
  status=$?
  check "$spec" "${spec%.yaml}.expected" "$output
exit status: $status
"
done

for spec in tests/golden/plans/*.yaml; do
  [ -e "$spec" ] || continue
  [[ -z "$FILTER" || "$spec" == *"$FILTER"* ]] || continue
  output=""
  for stage in logical optimized physical; do
    output+=$("$PIPEC" explain "$spec" --stage "$stage" --color never 2>&1)
    output+=$'\n'"exit status: $?"$'\n'
  done
  check "$spec" "${spec%.yaml}.expected" "$output"
done

for arguments_file in tests/golden/cli/*.args tests/golden/schema/*.args; do
  [ -e "$arguments_file" ] || continue
  [[ -z "$FILTER" || "$arguments_file" == *"$FILTER"* ]] || continue
  read -r -a arguments < "$arguments_file"
  # stderr first, then stdout: the two are separate streams and their interleaving is not part of the contract.
  stdout_file=$(mktemp)
  errors=$("$PIPEC" "${arguments[@]}" 2>&1 >"$stdout_file")
  status=$?
  output=$errors
  if [ -s "$stdout_file" ]; then
    [ -z "$output" ] || output+=$'\n'
    output+=$(cat "$stdout_file")
  fi
  rm -f "$stdout_file"
  check "$arguments_file" "${arguments_file%.args}.expected" "$output
exit status: $status
"
done

if [ "$BLESS" = 1 ]; then
  echo "blessed"
  exit 0
fi
echo "golden: $passed passed, $failed failed"
[ "$failed" = 0 ]
