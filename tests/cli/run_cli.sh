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
