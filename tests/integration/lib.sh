# Shared helpers for the integration scripts: free ports, a real redis-server, `pipec broker`, checks.
# Source it after setting PIPEC and WORK (a scratch directory the caller removes).

failures=0
check() {  # check DESCRIPTION EXPECTED ACTUAL
  if [ "$2" == "$3" ]; then
    echo "ok   $1"
  else
    echo "FAIL $1: expected '$2', got '$3'"
    failures=$((failures + 1))
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_redis() {  # start_redis PORT → sets REDIS_PID
  redis-server --port "$1" --bind 127.0.0.1 --save '' --appendonly no --loglevel warning >> "$WORK/redis.log" 2>&1 &
  REDIS_PID=$!
  for _ in $(seq 100); do redis-cli -p "$1" ping > /dev/null 2>&1 && return 0; sleep 0.05; done
  echo "FAIL redis-server did not start on port $1"
  return 1
}

start_broker() {  # start_broker TOPICS → sets BROKER_PID and BROKERS
  "$PIPEC" broker --topics "$1" > "$WORK/broker.out" 2> "$WORK/broker.err" &
  BROKER_PID=$!
  BROKERS=""
  for _ in $(seq 100); do
    BROKERS=$(sed -n 's/^bootstrap.servers=//p' "$WORK/broker.out" 2> /dev/null)
    [ -n "$BROKERS" ] && return 0
    sleep 0.05
  done
  echo "FAIL pipec broker printed no bootstrap.servers line"
  cat "$WORK/broker.err"
  return 1
}

wait_for() {  # wait_for SECONDS COMMAND...: polls until COMMAND succeeds
  local deadline=$((SECONDS + $1))
  shift
  while [ "$SECONDS" -lt "$deadline" ]; do
    "$@" && return 0
    sleep 0.2
  done
  return 1
}

require_tools() {
  for tool in "$@"; do
    if ! command -v "$tool" > /dev/null; then
      echo "SKIP: $tool is not installed"
      exit 77
    fi
  done
}

last_values() {  # last_values ROWS.jsonl KEY_COLUMN VALUE_COLUMN → "key value" lines: the last value per key, sorted
  python3 - "$@" <<'PY'
import json, sys
path, key, value = sys.argv[1:4]
last = {}
for line in open(path):
    row = json.loads(line)
    last[row[key]] = row[value]
for k in sorted(last):
    print(f"{k} {last[k]}")
PY
}
