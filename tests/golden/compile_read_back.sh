#!/usr/bin/env bash
# Every compiled artifact must read back: compiles each example and each golden plan spec, then has
# `pipec run --plan` load every plan.pb it wrote (and replay an empty input through it). Run from anywhere:
#   tests/golden/compile_read_back.sh PIPEC
set -uo pipefail
PIPEC=$1
cd "$(dirname "$0")/../.."
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0
plans=0
for spec in examples/*.yaml tests/golden/plans/*.yaml; do
  case "$spec" in *.test.yaml) continue ;; esac  # spec tests (`pipec test`), not specs
  rm -rf "$scratch/out"
  if ! "$PIPEC" compile "$spec" -o "$scratch/out" > "$scratch/log" 2>&1; then
    echo "FAIL compile $spec"
    cat "$scratch/log"
    failed=$((failed + 1))
    continue
  fi
  found=0
  for plan in "$scratch"/out/*/plan.pb; do
    [ -e "$plan" ] || continue
    found=1
    plans=$((plans + 1))
    if ! "$PIPEC" run --plan "$plan" --input /dev/null --output "$scratch/rows.jsonl" > "$scratch/log" 2>&1; then
      echo "FAIL read back ${plan#"$scratch"/} of $spec"
      cat "$scratch/log"
      failed=$((failed + 1))
    fi
  done
  if [ "$found" = 0 ]; then
    echo "FAIL $spec compiled to no plan.pb"
    failed=$((failed + 1))
  fi
done
echo "compile read back: $plans plans read back, $failed failures"
[ "$failed" = 0 ] && [ "$plans" -gt 0 ]
