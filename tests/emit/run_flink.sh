#!/usr/bin/env bash
# Tests of the Flink target (`pipec compile --target flink`), run from anywhere:
#   1. golden: every file emitted for tests/emit/flink_specs (wrapper and Timestamp fields, a JSON topic, several
#      features per job, SASL and Redis secrets) equals tests/emit/expected/flink_specs/ (the examples' Flink output
#      is compared by run_emit.sh)
#   2. the shape Flink needs: one statement set per job with one INSERT per feature and sink, the source view that
#      gives wrapper/Timestamp fields the spec's types, UTC, and the warnings for what differs (W0601, W0603)
#   3. every job.sql of the examples and of flink_specs parses with dt-sql-parser's FlinkSQL parser, which refuses a
#      broken statement
#   4. every flinkdeployment.yaml validates against the Flink Kubernetes Operator's CRD and admission rules (and its
#      ConfigMap against the Kubernetes schemas); deployments the operator would refuse are refused
#   5. without checkpoint and savepoint directories the Flink target is an error (E0603)
#   tests/emit/run_flink.sh PIPEC [--bless]
set -uo pipefail
PIPEC=$(realpath "$1")
BLESS=${2:-}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
source tests/integration/lib.sh

compile() {  # compile OUT SPECS ARGS...
  local out=$1 specs=$2
  shift 2
  "$PIPEC" compile "$specs" --env prod --git-revision test --target flink -o "$out" "$@" > "$out.log" 2>&1 ||
    { echo "FAIL pipec compile $specs $*"; cat "$out.log"; exit 1; }
}

# --- 1. golden ------------------------------------------------------------------------------------------------------
compile "$WORK/specs" tests/emit/flink_specs
compile "$WORK/examples" examples
# The warnings are part of the golden output (the scratch directory's path replaced).
sed "s|$WORK|OUT|g" "$WORK/specs.log" > "$WORK/compile.log"
if [ "$BLESS" = "--bless" ]; then
  rm -rf tests/emit/expected/flink_specs
  cp -r "$WORK/specs" tests/emit/expected/flink_specs
  cp "$WORK/compile.log" tests/emit/expected/flink_specs/compile.log
  echo "blessed"
  exit 0
fi
cp "$WORK/compile.log" "$WORK/specs/compile.log"
if diff -r tests/emit/expected/flink_specs "$WORK/specs" > "$WORK/diff.txt"; then
  echo "ok   golden Flink artifacts and warnings of tests/emit/flink_specs"
else
  echo "FAIL golden Flink artifacts differ (rerun with --bless after review):"
  head -60 "$WORK/diff.txt"
  failures=$((failures + 1))
fi

# --- 2. shape -------------------------------------------------------------------------------------------------------
for sql in "$WORK"/specs/*/job.sql "$WORK"/examples/*/job.sql; do
  job=$(basename "$(dirname "$sql")")
  features=$(grep -c '^INSERT INTO' "$sql")
  tables=$(grep -c '^CREATE TABLE `.*__' "$sql")
  check "$job: one statement set" 1 "$(grep -c '^EXECUTE STATEMENT SET$' "$sql")"
  check "$job: one INSERT per feature sink table, all inside the statement set" "$((tables - 1))" \
    "$(sed -n '/^EXECUTE STATEMENT SET$/,/^END;$/p' "$sql" | grep -c '^INSERT INTO')"
  [ "$features" -gt 0 ] || { echo "FAIL $job has no INSERT"; failures=$((failures + 1)); }
  grep -qx "SET 'table.local-time-zone' = 'UTC';" "$sql" && echo "ok   $job: session time zone UTC" || { echo "FAIL $job: no UTC"; failures=$((failures + 1)); }
done
promo="$WORK/specs/store_promo_orders/job.sql"
check "the statement set of a job with three features has three INSERTs" 3 "$(grep -c '^INSERT INTO' "$promo")"
grep -q '`promo_code`.`value` AS `promo_code`' "$promo" && echo "ok   a StringValue is read as its value under the field's name" ||
  { echo "FAIL StringValue not unwrapped"; failures=$((failures + 1)); }
grep -q 'CAST(TO_TIMESTAMP_LTZ(`created_at`.`seconds` \* 1000 + `created_at`.`nanos` / 1000000, 3) AS TIMESTAMP(3)) AS `created_at`' "$promo" &&
  echo "ok   a Timestamp is read as TIMESTAMP(3) under the field's name" || { echo "FAIL Timestamp not converted"; failures=$((failures + 1)); }
grep -q "WHERE COALESCE(promo_code, '') <> '' AND created_at >= TIMESTAMP '2026-01-01 00:00:00'" "$promo" &&
  echo "ok   the spec's SQL is kept as written" || { echo "FAIL the spec's SQL was changed"; failures=$((failures + 1)); }
grep -q "'properties.sasl.jaas.config' = 'org.apache.kafka.common.security.scram.ScramLoginModule required username=\"pipec-features\" password=\"\${KAFKA_SASL_PASSWORD}\";'" "$promo" &&
  echo "ok   librdkafka SASL settings become the Java client's sasl.jaas.config, the password still a reference" ||
  { echo "FAIL SASL settings not translated"; failures=$((failures + 1)); }
json="$WORK/specs/store_basket_json/job.sql"
grep -q '`createdAt` TIMESTAMP_LTZ(3)' "$json" && grep -q "'json.timestamp-format.standard' = 'ISO-8601'" "$json" &&
  echo "ok   JSON topics declare the JSON names and RFC 3339 Timestamps" || { echo "FAIL JSON topic columns"; failures=$((failures + 1)); }
check "a Kafka sink of two features is one upsert-kafka table with one INSERT of the whole row" 1 \
  "$(grep -c '^INSERT INTO `store_feature_events__feature_events`$' "$json")"
grep -q 'warning\[W0603\]: topic `store_feature_events`' "$WORK/specs.log" && echo "ok   W0603 for the Kafka sink's JSON values" ||
  { echo "FAIL no W0603 for the Kafka sink"; failures=$((failures + 1)); }
grep -q 'warning\[W0603\]: feature `avg_basket_5m`' "$WORK/specs.log" && echo "ok   W0603 for a DOUBLE feature" ||
  { echo "FAIL no W0603"; failures=$((failures + 1)); }
grep -q 'CAST(ROW(`courier`.`courier_id`, `courier`.`rating`.`value`) AS ROW<`courier_id` STRING, `rating` DOUBLE>) AS `courier`' "$promo" &&
  echo "ok   a wrapper inside a nested message is unwrapped too" || { echo "FAIL nested wrapper not converted"; failures=$((failures + 1)); }

# --- 3 and 4. offline checkers ----------------------------------------------------------------------------------------
VALIDATOR=tests/emit/validator
if command -v node > /dev/null && command -v npm > /dev/null; then
  [ -d "$VALIDATOR/node_modules/dt-sql-parser" ] || (cd "$VALIDATOR" && npm ci --no-audit --no-fund --silent > "$WORK/npm.log" 2>&1)
fi
if [ -d "$VALIDATOR/node_modules/dt-sql-parser" ] && [ -d "$VALIDATOR/node_modules/esbuild" ]; then
  # dt-sql-parser's ESM dist does not load in Node 20 as is; bundled, it does.
  (cd "$VALIDATOR" && node_modules/.bin/esbuild flink_sql_check.cjs --bundle --platform=node --log-level=warning \
    --outfile="$WORK/flink_sql_check.cjs") || { echo "FAIL esbuild could not bundle the Flink SQL checker"; exit 1; }
  node "$WORK/flink_sql_check.cjs" "$WORK"/specs/*/job.sql "$WORK"/examples/*/job.sql && echo "ok   every job.sql parses as Flink SQL" ||
    failures=$((failures + 1))
  { cat "$promo"; echo "SELECT * FROM t WHERE"; } > "$WORK/broken.sql"
  if node "$WORK/flink_sql_check.cjs" "$WORK/broken.sql" > "$WORK/broken.log" 2>&1; then
    echo "FAIL the parser accepted a broken statement"; failures=$((failures + 1))
  elif grep -q "broken.sql:.*Statement is incomplete" "$WORK/broken.log"; then
    echo "ok   the parser refuses an incomplete statement"
  else
    echo "FAIL the parser refused the statement for another reason"; cat "$WORK/broken.log"; failures=$((failures + 1))
  fi

  node "$VALIDATOR/validate.mjs" "$WORK"/specs/*/flinkdeployment.yaml "$WORK"/examples/*/flinkdeployment.yaml &&
    echo "ok   every FlinkDeployment and ConfigMap validates" || failures=$((failures + 1))
  # What the operator refuses must be refused here too: each variant of a valid deployment, checked in one run.
  deployment="$WORK/specs/store_promo_orders/flinkdeployment.yaml"
  variants=(
    "a field the CRD does not define|additional properties (upgradeMod)|s/upgradeMode:/upgradeMod:/"
    "an upgrade mode the CRD does not list|must be equal to one of the allowed values|s/upgradeMode: \"savepoint\"/upgradeMode: \"resume\"/"
    "savepoint upgrades without state.savepoints.dir|state.savepoints.dir must be set|/state.savepoints.dir/d"
    "a TaskManager too small for Flink's memory model|leaves no heap|s/memory: \"1728m\"/memory: \"512m\"/"
    "a name longer than the operator's 45 characters|at most 45 characters|s/^  name: \"pipec-store-promo-orders\"/  name: \"pipec-store-promo-orders-with-a-name-much-longer-than-45\"/"
    "Flink before 1.18|is not Flink 1.18+|s/flinkVersion: \"v1_19\"/flinkVersion: \"v1_17\"/"
  )
  for i in "${!variants[@]}"; do sed "${variants[$i]##*|}" "$deployment" > "$WORK/refused-$i.yaml"; done
  node "$VALIDATOR/validate.mjs" "$WORK"/refused-*.yaml > "$WORK/refused.log" 2>&1
  for i in "${!variants[@]}"; do
    IFS='|' read -r description message _ <<< "${variants[$i]}"
    if grep "refused-$i.yaml:" "$WORK/refused.log" | grep -qF "$message"; then
      echo "ok   refused: $description"
    else
      echo "FAIL accepted or refused for another reason: $description"; grep "refused-$i.yaml:" "$WORK/refused.log"; failures=$((failures + 1))
    fi
  done
else
  echo "skip offline Flink SQL and CRD checks: npm could not install tests/emit/validator (no node or no registry access?)"
fi

# --flink-image names the Flink image (Flink, the SQL runner and the connectors) in the FlinkDeployment.
compile "$WORK/image" examples/store_order_count.yaml --flink-image registry.example.com/pipec-flink:1.18.1
grep -q 'image: "registry.example.com/pipec-flink:1.18.1"' "$WORK/image/canary_store_order_count/flinkdeployment.yaml" &&
  echo "ok   --flink-image names the image of the FlinkDeployment" || { echo "FAIL --flink-image"; failures=$((failures + 1)); }

# --- 5. state directories -------------------------------------------------------------------------------------------
mkdir -p "$WORK/nodirs"
cp tests/emit/flink_specs/promo_orders.yaml "$WORK/nodirs/"
cp -r tests/emit/flink_specs/schemas "$WORK/nodirs/"
sed '/flink:/,$d' tests/emit/flink_specs/pipec.yaml > "$WORK/nodirs/pipec.yaml"
"$PIPEC" compile "$WORK/nodirs" --env prod --target flink -o "$WORK/nodirs-out" > "$WORK/nodirs.log" 2>&1
status=$?
check "no state directories: exit 1" 1 "$status"
grep -q 'error\[E0603\]' "$WORK/nodirs.log" && echo "ok   E0603 names the missing directories" || { echo "FAIL no E0603"; cat "$WORK/nodirs.log"; failures=$((failures + 1)); }

echo "flink: $failures failure(s)"
[ "$failures" = 0 ]
