#!/usr/bin/env bash
# Secrets never leave the place they are kept: the environment config names them (`${NAME}`, or a Kubernetes
# secretKeyRef), and nothing pipec emits holds their values.
#   1. compiling tests/emit/flink_specs (SASL password and Redis password named) for every target, with the secret
#      values in pipec's own environment, writes them into no file (plan.pb, ConfigMap, Helm chart, job.sql, ...);
#      the pods get them from the Secrets as environment variables
#   2. a secret written as a literal value is refused (E0123), in the config and through --set
#   3. `pipec run` reads them when the job starts: a password-protected redis-server gets the features with the
#      variable set, the run stops with an error naming the variable when it is not, and from a compiled plan too
#   tests/emit/run_secrets.sh PIPEC
set -uo pipefail
PIPEC=$(realpath "$1")
REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
WORK=$(mktemp -d)
source tests/integration/lib.sh
REDIS_PID=""
cleanup() {
  [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2> /dev/null
  wait 2> /dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

SASL_SECRET="sasl-secret-$RANDOM-Zq1"
REDIS_SECRET="redis-secret-$RANDOM-Xy9"
export KAFKA_SASL_PASSWORD=$SASL_SECRET PIPEC_SECRET_REDIS_AUTH_PASSWORD=$REDIS_SECRET

# --- 1. no secret value in any emitted file -------------------------------------------------------------------------
for variant in "yaml" "helm --format helm" "flink --target flink"; do
  set -- $variant
  name=$1
  shift
  "$PIPEC" compile tests/emit/flink_specs --env prod --git-revision test -o "$WORK/$name" "$@" > "$WORK/$name.log" 2>&1 ||
    { echo "FAIL compile $name"; cat "$WORK/$name.log"; exit 1; }
  files=$(find "$WORK/$name" -type f | wc -l)
  if grep -r -a -l -e "$SASL_SECRET" -e "$REDIS_SECRET" "$WORK/$name" "$WORK/$name.log"; then
    echo "FAIL a secret value is in the $name output (files above)"; failures=$((failures + 1))
  else
    echo "ok   no secret value in the $files files of the $name output"
  fi
done
grep -a -q '${KAFKA_SASL_PASSWORD}' "$WORK/yaml/store_promo_orders/plan.pb" && echo "ok   the plan names the SASL password as \${KAFKA_SASL_PASSWORD}" ||
  { echo "FAIL the plan does not name the SASL password"; failures=$((failures + 1)); }
python3 - "$WORK/yaml/store_promo_orders/kubernetes.yaml" "$WORK/flink/store_promo_orders/flinkdeployment.yaml" > "$WORK/env.txt" <<'PY'
import sys
# The env entries of each file, as "NAME SECRET KEY" lines (the emitted YAML is regular: one key per line).
for path in sys.argv[1:]:
    lines = [line.strip() for line in open(path)]
    for i, line in enumerate(lines):
        if line.startswith("- name:") and i + 4 < len(lines) and lines[i + 1] == "valueFrom:" and lines[i + 2] == "secretKeyRef:":
            value = lambda text: text.split(":", 1)[1].strip().strip('"')
            print(path.rsplit("/", 1)[1], value(line[2:]), value(lines[i + 3]), value(lines[i + 4]))
PY
# The job has a repartition exchange (its spec declares no key_field): two Deployments, one per stage, each mounting both.
check "both stage Deployments and the FlinkDeployment mount both secrets" \
  "flinkdeployment.yaml KAFKA_SASL_PASSWORD pipec-secrets KAFKA_SASL_PASSWORD
flinkdeployment.yaml PIPEC_SECRET_REDIS_AUTH_PASSWORD redis-auth password
kubernetes.yaml KAFKA_SASL_PASSWORD pipec-secrets KAFKA_SASL_PASSWORD
kubernetes.yaml KAFKA_SASL_PASSWORD pipec-secrets KAFKA_SASL_PASSWORD
kubernetes.yaml PIPEC_SECRET_REDIS_AUTH_PASSWORD redis-auth password
kubernetes.yaml PIPEC_SECRET_REDIS_AUTH_PASSWORD redis-auth password" "$(sort "$WORK/env.txt")"

if [ -d tests/emit/validator/node_modules/kubernetes-models ] && command -v node > /dev/null; then
  node tests/emit/validator/validate.mjs "$WORK"/yaml/*/kubernetes.yaml "$WORK"/flink/*/flinkdeployment.yaml > "$WORK/validate.log" 2>&1 &&
    echo "ok   the manifests with secret environment variables validate" || { echo "FAIL"; cat "$WORK/validate.log"; failures=$((failures + 1)); }
else
  echo "skip manifest validation: tests/emit/validator is not installed (tools/setup installs it)"
fi

# --- 2. literal secrets are refused -----------------------------------------------------------------------------------
mkdir -p "$WORK/literal"
cp tests/emit/flink_specs/promo_orders.yaml "$WORK/literal/"
cp -r tests/emit/flink_specs/schemas "$WORK/literal/"
sed "s/password: {secretKeyRef: .*/password: hunter2/" tests/emit/flink_specs/pipec.yaml > "$WORK/literal/pipec.yaml"
"$PIPEC" validate "$WORK/literal" --env prod --color never > "$WORK/literal.log" 2>&1
check "a literal Redis password: exit 1" 1 "$?"
grep -q 'error\[E0123\]: `password` holds a secret written as its value' "$WORK/literal.log" && echo "ok   E0123 for the literal password" ||
  { echo "FAIL no E0123"; cat "$WORK/literal.log"; failures=$((failures + 1)); }
"$PIPEC" validate tests/emit/flink_specs --env prod --set clusters.default.properties.sasl.password=hunter2 --color never > "$WORK/set.log" 2>&1
check "a literal SASL password through --set: exit 1" 1 "$?"
grep -q 'E0123' "$WORK/set.log" && echo "ok   E0123 through --set" || { echo "FAIL no E0123 through --set"; cat "$WORK/set.log"; failures=$((failures + 1)); }

# --- 3. the runtime reads the secrets -------------------------------------------------------------------------------
if command -v redis-server > /dev/null; then
  PORT=$(free_port)
  redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --requirepass "$REDIS_SECRET" --loglevel warning >> "$WORK/redis.log" 2>&1 &
  REDIS_PID=$!
  wait_for 10 bash -c "redis-cli -p $PORT -a '$REDIS_SECRET' --no-auth-warning ping > /dev/null 2>&1" || { echo "FAIL redis-server did not start"; exit 1; }
  cat > "$WORK/pipec.yaml" <<YAML
local:
  clusters:
    default:
      bootstrap_servers: embedded
  sinks:
    prod_canary_features:
      type: redis
      address: 127.0.0.1:$PORT
      password: \${PIPEC_TEST_REDIS_PASSWORD}
YAML
  # The embedded broker, seeded with the sample and read to its end: the features go to the Redis sink.
  run() { "$PIPEC" run examples/store_order_count.yaml --env-file "$WORK/pipec.yaml" --seed examples/data/store_timeline_events.jsonl --until-end --sink redis "$@"; }
  PIPEC_TEST_REDIS_PASSWORD=$REDIS_SECRET run > "$WORK/run.out" 2> "$WORK/run.err"
  check "pipec run with the password in the environment: exit 0" 0 "$?"
  keys=$(redis-cli -p "$PORT" -a "$REDIS_SECRET" --no-auth-warning dbsize)
  [ "$keys" -gt 0 ] && echo "ok   features written to the password-protected Redis ($keys keys)" || { echo "FAIL no features"; cat "$WORK/run.err"; failures=$((failures + 1)); }
  (unset PIPEC_TEST_REDIS_PASSWORD; run > "$WORK/unset.out" 2> "$WORK/unset.err")
  check "pipec run without the variable: exit 2" 2 "$?"
  grep -q 'setting `password` of sink `prod_canary_features` names the environment variable `PIPEC_TEST_REDIS_PASSWORD`, which is not set' "$WORK/unset.err" &&
    echo "ok   the error names the sink, the setting and the variable" || { echo "FAIL unexpected error"; cat "$WORK/unset.err"; failures=$((failures + 1)); }
  PIPEC_TEST_REDIS_PASSWORD=wrong run > /dev/null 2> "$WORK/wrong.err"
  check "pipec run with a wrong password: exit 1" 1 "$?"
  # From a compiled plan: the plan names the variable, the run reads it.
  "$PIPEC" compile examples/store_order_count.yaml --env-file "$WORK/pipec.yaml" -o "$WORK/compiled" > /dev/null 2>&1
  redis-cli -p "$PORT" -a "$REDIS_SECRET" --no-auth-warning flushall > /dev/null
  PIPEC_TEST_REDIS_PASSWORD=$REDIS_SECRET "$PIPEC" run --plan "$WORK/compiled/canary_store_order_count/plan.pb" --brokers embedded \
    --seed examples/data/store_timeline_events.jsonl --until-end --sink redis > /dev/null 2> "$WORK/plan.err"
  check "pipec run --plan with the password in the environment: exit 0" 0 "$?"
  keys=$(redis-cli -p "$PORT" -a "$REDIS_SECRET" --no-auth-warning dbsize)
  [ "$keys" -gt 0 ] && echo "ok   features written from the compiled plan ($keys keys)" || { echo "FAIL no features from the plan"; cat "$WORK/plan.err"; failures=$((failures + 1)); }
else
  echo "skip runtime secret checks: redis-server not installed"
fi

echo "secrets: $failures failure(s)"
[ "$failures" = 0 ]
