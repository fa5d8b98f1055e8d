#!/usr/bin/env bash
# Runs the GitHub Actions workflow documented in docs/ci.md, step by step, on a scratch git repository with a base
# commit (the examples) and a head commit, as GitHub would for a pull request, and checks the exit statuses, the
# annotations and the Markdown summary.
#   tests/ci/run_ci_workflow.sh PIPEC   (from the repository root)
set -uo pipefail
PIPEC=$(realpath "$1")
ROOT=$(pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

# The workflow's environment: pipec on the PATH, a runner temp directory, a step summary file, and a git
# configuration of our own (the checkout step writes --global settings).
mkdir -p "$WORK/bin" "$WORK/runner"
ln -s "$PIPEC" "$WORK/bin/pipec"
export PATH="$WORK/bin:$PATH" RUNNER_TEMP="$WORK/runner" GITHUB_STEP_SUMMARY="$WORK/step_summary.md"
export HOME="$WORK" GIT_CONFIG_GLOBAL="$WORK/gitconfig" GIT_CONFIG_NOSYSTEM=1
: > "$GITHUB_STEP_SUMMARY"
git_commit() { git -c user.name=ci -c user.email=ci@example.com commit -q -m "$1"; }

# Base commit: the examples, laid out as docs/ci.md expects.
repo="$WORK/repo"
mkdir -p "$repo/specs" "$repo/schemas"
cp examples/*.yaml "$repo/specs/"
cp -r schemas/com "$repo/schemas/"
cp pipec.yaml "$repo/"
cd "$repo" || exit 1
git init -q -b main .
git add -A && git_commit "base"
base=$(git rev-parse HEAD)

# Head commit: a longer HOP slide and one more task manager (state-incompatible), a new job, a removed job, and a
# new Protobuf field (compatible).
sed -i -e "s/INTERVAL '20' SECONDS, INTERVAL '20' MINUTES/INTERVAL '30' SECONDS, INTERVAL '20' MINUTES/" \
       -e "s/number_task_manager: 2/number_task_manager: 3/" specs/store_order_count.yaml
sed -e 's/store_delivery_wait/store_delivery_wait_hourly/g; s/_5m/_1h/g; s/INTERVAL '"'"'5'"'"' MINUTES/INTERVAL '"'"'1'"'"' HOUR/g' \
    -e 's/feature_ttl: [0-9]*/feature_ttl: 7200/' specs/delivery_wait_avg.yaml > specs/delivery_wait_hourly.yaml
git rm -q specs/consumer_session_count.yaml specs/consumer_session_count.test.yaml  # the job and its spec test
sed -i 's/^  repeated string tags = 13;/  repeated string tags = 13;\n  string coupon_code = 14;/' schemas/com/doordash/timeline_events/store_timeline_event.proto
grep -q 'coupon_code = 14' schemas/com/doordash/timeline_events/store_timeline_event.proto || fail "the head commit's proto change did not apply"
git add -A && git_commit "head"

steps="$WORK/steps"
python3 "$ROOT/tests/ci/extract_workflow_steps.py" "$ROOT/docs/ci.md" "$steps" || exit 1
# Runs every step of the workflow in order; `run_steps NAME_PATTERN` runs only the matching ones.
run_steps() {
  local pattern=${1:-}
  for script in "$steps"/*.sh; do
    local name
    name=$(cat "${script%.sh}.name")
    [[ -z "$pattern" || "$name" == *"$pattern"* ]] || continue
    sed -i "s/\${{ github.event.pull_request.base.sha }}/$base/g" "$script"
    if grep -q 'gh pr' "$script"; then echo "skip  $name (needs GitHub)"; continue; fi
    if grep -q '\${{' "$script"; then fail "$name: an expression this script does not fill in: $(grep -o '\${{[^}]*}}' "$script" | head -1)"; continue; fi
    if grep -qE '^\s*pipec test' "$script" && ! pipec --help | grep -qE '^ +test( |$)'; then echo "skip  $name (this pipec has no \`test\` command)"; continue; fi
    local log="$WORK/$(basename "$script" .sh).log"
    (cd "$repo" && bash -e "$script") > "$log" 2>&1
    local status=$?
    echo "$status" > "$WORK/$(basename "$script" .sh).status"
    echo "ran   $name: exit $status"
    last_log=$log
    last_status=$status
  done
}
last_log="" last_status=""
run_steps
for status_file in "$WORK"/*.status; do
  [ "$(cat "$status_file")" = 0 ] || { fail "step $(cat "$steps/$(basename "$status_file" .status).name") exited $(cat "$status_file")"; cat "${status_file%.status}.log"; }
done

# The schema check annotates the new field as a compatible change.
schema_log=$(grep -l 'title=N0230' "$WORK"/*.log | head -1)
[ -n "$schema_log" ] || fail "the schema check step did not annotate the new field (N0230)"
grep -q '::notice file=schemas/com/doordash/timeline_events/store_timeline_event.proto,line=41,col=10' "$WORK"/*.log ||
  fail "the N0230 annotation is not on the new field's line"

summary="$GITHUB_STEP_SUMMARY"
expect_line() {  # the summary has this exact line
  grep -qxF -- "$1" "$summary" || fail "summary lacks the line: $1"
}
expect_line '## pipec compile'
expect_line '4 jobs: 1 new, 2 changed, 1 removed, 0 unchanged. **1 job needs a fresh start / back-fill.**'
expect_line '| `canary_store_order_count` | changed | incompatible: the group window changed — **requires a fresh start / back-fill** |'
expect_line '| `consumer_session_activity` | removed | removed: its deployment is deleted |'
# The new field changes the descriptors every plan of the message carries.
expect_line '| `store_delivery_wait` | changed | compatible: same keys, window and aggregates; changed message schema |'
expect_line '| `store_delivery_wait_hourly` | new | new job: starts from the beginning of its topic (or its group'"'"'s committed offsets) |'
expect_line '### `canary_store_order_count`: changed'
expect_line '- **Resources:** task managers 2 → 3'
expect_line '<details><summary>Plan diff (physical plan)</summary>'
expect_line '-  WindowAggregate kind=HOP size_ms=1200000 slide_ms=20000 gap_ms=0'
expect_line '+  WindowAggregate kind=HOP size_ms=1200000 slide_ms=30000 gap_ms=0'
expect_line '- **Feature keys:** removed `consumer_session_event_count(consumer_id)`'
expect_line '- **Feature keys:** added `avg_delivery_wait_1h(store_id)` and `store_delivered_orders_1h(store_id)`'
[ -d "$repo/out/canary_store_order_count" ] || fail "the compile step wrote no out/ directory"

# Compiled again against its own output, nothing changed, and unchanged jobs get no section.
(cd "$repo" && pipec compile specs/ --env prod -o "$WORK/again" --against out/ --format markdown > "$WORK/again.md" 2> /dev/null) ||
  fail "compiling the head against its own output failed"
grep -qxF '3 jobs: 0 new, 0 changed, 0 removed, 3 unchanged.' "$WORK/again.md" || { fail "a recompile is not reported unchanged"; cat "$WORK/again.md"; }
grep -q '^### ' "$WORK/again.md" && fail "an unchanged job has a section of its own"

# The spec tests ran (`pipec test` exists in this build) over the head's test files; consumer_session_count's went with
# its spec.
test_log=$(grep -l '^[0-9]* passed, [0-9]* failed$' "$WORK"/*.log | head -1)
if [ -z "$test_log" ]; then
  fail "the spec test step did not run"
else
  grep -qxF '4 passed, 0 failed' "$test_log" || { fail "the spec test step did not pass the head's 4 tests"; cat "$test_log"; }
fi

# A head commit that changes what a feature computes (every order counted, not only confirmed ones) fails the spec
# test step, with an annotation on the expectation's line in the test file.
sed -i 's/SUM(CAST(has_store_order_confirmed_data AS INT))/COUNT(*)/' specs/store_order_count.yaml
git add -A && git_commit "count every order"
run_steps "Run the spec tests"
[ "$last_status" = 1 ] || fail "the spec test step exited $last_status on a feature that changed, expected 1"
grep -q '^::error file=specs/store_order_count.test.yaml,line=14,col=[0-9]*,.*title=E0701::`features`: key `canary_store_order_count:101` holds "2", expected "1"' "$last_log" ||
  { fail "no E0701 annotation on the test file's expectation line"; cat "$last_log"; }
git reset -q --hard HEAD~1

# A second head commit deletes a field a feature reads: the schema check step fails the pull request, with an
# annotation on the spec line that reads the field.
sed -i '/has_store_order_confirmed_data = /d' schemas/com/doordash/timeline_events/store_timeline_event.proto
git add -A && git_commit "delete a field a feature reads"
run_steps "Check Protobuf changes"
[ "$last_status" = 1 ] || fail "the schema check step exited $last_status on a breaking change, expected 1"
grep -q '^::error file=specs/store_order_count.yaml,line=14,col=27,.*title=E0220::schema change breaks feature `canary_store_order_count`' "$last_log" ||
  { fail "no E0220 annotation on the spec line that reads the deleted field"; cat "$last_log"; }

if [ "$failures" != 0 ]; then
  echo "--- step summary ---"
  cat "$summary"
fi
echo "ci workflow: $failures failure(s)"
[ "$failures" = 0 ]
