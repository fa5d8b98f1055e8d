#!/usr/bin/env bash
# The CLI contract CI relies on: exit codes (0 clean, 1 errors, 2 usage) and the GitHub/JSON diagnostic formats.
#   run_cli.sh PIPEC   (from the repository root)
set -uo pipefail
PIPEC=$1
failures=0
expect() {  # expect NAME EXPECTED_STATUS COMMAND...
  local name=$1 expected=$2
  shift 2
  "$@" > /tmp/pipec_cli_out.$$ 2>&1
  local status=$?
  if [ "$status" != "$expected" ]; then
    echo "FAIL $name: exit $status, expected $expected"
    cat /tmp/pipec_cli_out.$$
    failures=$((failures + 1))
  fi
}
contains() {  # contains NAME TEXT: the last command's output contains TEXT
  if ! grep -qF -- "$2" /tmp/pipec_cli_out.$$; then
    echo "FAIL $1: output lacks: $2"
    cat /tmp/pipec_cli_out.$$
    failures=$((failures + 1))
  fi
}

lacks() {  # lacks NAME TEXT: the last command's output does not contain TEXT
  if grep -qF -- "$2" /tmp/pipec_cli_out.$$; then
    echo "FAIL $1: output contains: $2"
    cat /tmp/pipec_cli_out.$$
    failures=$((failures + 1))
  fi
}

expect clean 0 "$PIPEC" validate examples
expect version 0 "$PIPEC" --version
contains version "pipec "
expect errors 1 "$PIPEC" validate tests/golden/errors/bind_unknown_column.yaml
expect missing-file 1 "$PIPEC" validate does/not/exist.yaml
contains missing-file "error[E0001]"
expect no-arguments 2 "$PIPEC" validate
expect bad-format 2 "$PIPEC" validate --format xml examples
expect bad-pass 2 "$PIPEC" validate --disable-pass no_such_pass examples
expect github 1 "$PIPEC" validate --format github tests/golden/errors/bind_unknown_column.yaml
contains github "::error file=tests/golden/errors/bind_unknown_column.yaml,line=12,col=32,endColumn=45,title=E0401::unknown column"
expect json 1 "$PIPEC" validate --format json tests/golden/errors/bind_unknown_column.yaml
contains json '"code":"E0401"'
contains json '"line":12,"column":32'
expect warning-only 0 "$PIPEC" explain tests/golden/plans/hop_seed.yaml --stage ast
contains warning-only "Call HOP"
expect disable-pass 0 "$PIPEC" explain tests/golden/plans/constant_folding.yaml --stage optimized --disable-pass constant_folding
contains disable-pass "(1 + (2 * 3))"
expect replay 0 "$PIPEC" run examples/delivery_wait_avg.yaml --input examples/data/store_timeline_events.jsonl --output /tmp/pipec_cli_rows.$$
if [ "$(wc -l < /tmp/pipec_cli_rows.$$)" -lt 1 ]; then echo "FAIL replay: no rows"; failures=$((failures + 1)); fi
expect compile 0 "$PIPEC" compile examples -o /tmp/pipec_cli_out_dir.$$
expect plan-run 0 "$PIPEC" run --plan /tmp/pipec_cli_out_dir.$$/store_delivery_wait/plan.pb --input examples/data/store_timeline_events.jsonl --output /tmp/pipec_cli_rows2.$$
if ! cmp -s /tmp/pipec_cli_rows.$$ /tmp/pipec_cli_rows2.$$; then echo "FAIL plan-run: a compiled plan gives other rows than the spec"; failures=$((failures + 1)); fi
rm -rf /tmp/pipec_cli_out.$$ /tmp/pipec_cli_rows.$$ /tmp/pipec_cli_rows2.$$ /tmp/pipec_cli_out_dir.$$
# User errors at run time are errors with a message and exit 1 or 2, never "internal error" (exit 3).
expect missing-seed 2 "$PIPEC" run examples/store_order_count.yaml --seed /nonexistent/seed.jsonl --sink stdout
contains missing-seed "error: cannot read seed file \`/nonexistent/seed.jsonl\`"
lacks missing-seed "internal error"
expect missing-input 2 "$PIPEC" run examples/store_order_count.yaml --input /nonexistent/events.jsonl
contains missing-input "error: cannot read input file \`/nonexistent/events.jsonl\`"
expect unwritable-dead-letter 2 "$PIPEC" run examples/store_order_count.yaml --input examples/data/store_timeline_events.jsonl \
  --output /dev/null --dead-letter /nonexistent/dead.jsonl
contains unwritable-dead-letter "error: cannot write dead-letter file \`/nonexistent/dead.jsonl\`"
expect missing-plan 2 "$PIPEC" run --plan /nonexistent/plan.pb --input examples/data/store_timeline_events.jsonl
contains missing-plan "error: cannot read compiled plan"
expect bad-redis-port 2 "$PIPEC" run examples/store_order_count.yaml --sink redis --set sinks.prod_canary_features.address=127.0.0.1:99999
contains bad-redis-port "error: invalid Redis port in address \`127.0.0.1:99999\`"
lacks bad-redis-port "internal error"
# One timestamp in microseconds must not freeze a replay (issue 11, item 8): store 2 gets its rows.
printf '%s\n' '{"_time":1767225600000,"storeId":"1"}' '{"_time":1767225600000000,"storeId":"1"}' \
  '{"_time":1767225630000,"storeId":"2"}' > /tmp/pipec_cli_times.$$
expect time-in-future 0 "$PIPEC" run examples/store_order_count.yaml --input /tmp/pipec_cli_times.$$ --output /tmp/pipec_cli_rows.$$
contains time-in-future "line 2: rejected record: time_in_future"
contains time-in-future "3 records, 2 decoded, 0 malformed, 0 without event time, 0 filtered, 0 late, 120 rows out, 1 time in future, 0 empty"
if ! grep -q '"st":2' /tmp/pipec_cli_rows.$$; then echo "FAIL time-in-future: no row for store 2"; failures=$((failures + 1)); fi
expect time-guard-off 0 "$PIPEC" run examples/store_order_count.yaml --input /tmp/pipec_cli_times.$$ --output /tmp/pipec_cli_rows.$$ \
  --max-future-skew 0
contains time-guard-off "0 time in future"
rm -f /tmp/pipec_cli_times.$$ /tmp/pipec_cli_rows.$$ /tmp/pipec_cli_out.$$
# Environment settings are checked where they are written: librdkafka properties by the Kafka client's own rules,
# sink settings against what the sink reads (a misspelt one must not fall back to a default).
envdir=/tmp/pipec_cli_env.$$
mkdir -p "$envdir"
cat > "$envdir/pipec.yaml" <<'EOF2'
local:
  clusters:
    default:
      bootstrap_servers: embedded
      properties:
        security.protcol: SASL_SSL
  sinks:
    prod_canary_features:
      type: redis
      adress: 10.0.0.1:6379
EOF2
expect env-settings 1 "$PIPEC" validate examples/store_order_count.yaml --env-file "$envdir/pipec.yaml" --set clusters.default.properties.acks=sometimes
contains env-settings "error[E0122]: invalid Kafka property \`security.protcol\` of cluster \`default\`: No such configuration property: \"security.protcol\" (did you mean \`security.protocol\`?)"
contains env-settings "$envdir/pipec.yaml:6:9"
contains env-settings "error[E0122]: invalid Kafka property \`acks\` of cluster \`default\`"
contains env-settings "error[E0101]: unknown setting \`adress\` for redis sink \`prod_canary_features\`"
contains env-settings "did you mean \`address\`?"
rm -rf "$envdir"
echo "cli: $failures failure(s)"
[ "$failures" = 0 ]
