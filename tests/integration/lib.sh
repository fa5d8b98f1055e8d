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
  # Removed first: the background redirection truncates it only once the child runs, so a second broker in the same
  # script could otherwise be taken for the first one's (stopped) address.
  rm -f "$WORK/broker.out"
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

changelog() {  # changelog GROUP JOB PARTITIONS → "GROUP-JOB-changelog:PARTITIONS", a topic for start_broker
  # The embedded broker cannot create topics for a client (no CreateTopics), and creates unknown topics on a metadata
  # request with 4 partitions: a job's changelog topic must be made with the broker, with the source's partition count.
  echo "$1-$2-changelog:$3"
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
for k in sorted(last, key=str):  # string order, like `LC_ALL=C sort` of Redis keys
    print(f"{k} {last[k]}")
PY
}

stop_pid() {  # stop_pid PID [SIGNAL]: signals a process this script started and reaps it
  [ -n "$1" ] || return 0
  kill "-${2:-TERM}" "$1" 2> /dev/null
  wait "$1" 2> /dev/null
  return 0
}

# Standard cleanup for a script that uses REDIS_PID, BROKER_PID and RUN_PIDS (pipec runs in the background):
#   trap integration_cleanup EXIT     (KEEP_WORK=1 keeps the scratch directory for a post-mortem)
integration_cleanup() {
  for pid in "${RUN_PIDS[@]}" ${BROKER_PID:-} ${REDIS_PID:-}; do kill "$pid" 2> /dev/null; done
  wait 2> /dev/null
  if [ -n "${KEEP_WORK:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}

redis_values() {  # redis_values PORT FEATURE → "key value" per feature key, sorted by key (like last_values)
  redis-cli -p "$1" --scan --pattern "$2:*" | LC_ALL=C sort | while read -r key; do
    echo "${key#"$2":} $(redis-cli -p "$1" get "$key")"
  done
}

keys_without_ttl() {  # keys_without_ttl PORT FEATURE → how many feature keys have no positive TTL
  local n=0 key ttl
  for key in $(redis-cli -p "$1" --scan --pattern "$2:*"); do
    ttl=$(redis-cli -p "$1" ttl "$key")
    [ "$ttl" -gt 0 ] || n=$((n + 1))
  done
  echo "$n"
}

summary_count() {  # summary_count LOG WORD → the number before WORD in the last summary line `pipec run` printed
  # The summary: "JOB: N records, N decoded, N rejected (N dead-lettered), N late, N rows out, N commits".
  grep -E '^[^ ]+: [0-9]+ records, ' "$1" | tail -1 | grep -oE "[0-9]+ \(?$2" | grep -oE '^[0-9]+'
}
