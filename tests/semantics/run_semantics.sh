#!/usr/bin/env bash
# Semantic test suite as data. Each case is a folder tests/semantics/cases/NAME/ with
#   spec.yaml       a spec with one source job (protos from the repository's schemas/)
#   input.jsonl     events in the Protobuf JSON mapping of the source message (optional "_time" envelope time)
#   expected.jsonl  the hand-verified result rows, in emission order
# The case passes when `pipec run spec.yaml --input input.jsonl --output -` prints exactly expected.jsonl.
#   run_semantics.sh PIPEC [--bless] [FILTER]
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
passed=0
failed=0
for case in tests/semantics/cases/*/; do
  name=$(basename "$case")
  [[ -z "$FILTER" || "$name" == *"$FILTER"* ]] || continue
  actual=$(mktemp)
  if ! "$PIPEC" run "$case/spec.yaml" --input "$case/input.jsonl" --output "$actual" --color never 2> "$actual.log"; then
    echo "FAIL $name: pipec run failed"
    cat "$actual.log"
    failed=$((failed + 1))
    rm -f "$actual" "$actual.log"
    continue
  fi
  if [ "$BLESS" = 1 ]; then
    cp "$actual" "$case/expected.jsonl"
  elif diff -u "$case/expected.jsonl" "$actual" > "$actual.diff"; then
    passed=$((passed + 1))
  else
    echo "FAIL $name"
    cat "$actual.diff"
    failed=$((failed + 1))
  fi
  rm -f "$actual" "$actual.log" "$actual.diff"
done
[ "$BLESS" = 1 ] && { echo "blessed"; exit 0; }
echo "semantics: $passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
