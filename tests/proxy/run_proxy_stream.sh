#!/usr/bin/env bash
# A long v3 stream (Confluent's streaming mode) in one chunked request: ~100 MB of records, produced as they arrive.
#   - every record is acknowledged, one answer line per record in order, and the topic's offsets grew by as many;
#   - the proxy's peak memory grows by a small fraction of the body (it holds one record at a time and a few bytes
#     of verdict per record, not the body);
#   - a stream past --max-records or --max-body-bytes: the records before the limit are produced and answered, one
#     413 stands for the rest; a chunked body of a v2 request past --max-body-bytes is refused whole with 413;
#   - the connection still serves the next request afterwards (the rest of an over-limit body was drained).
#   tests/proxy/run_proxy_stream.sh PIPEC [release|sanitized]        exit 0 pass, 1 fail, 77 skipped
#   sanitized: a smaller stream, and no memory bound (ASan keeps freed memory in quarantine)
set -uo pipefail
PIPEC=$(realpath "$1")
BUILD=${2:-release}
cd "$(dirname "$0")/../.."
WORK=$(mktemp -d)
source tests/integration/lib.sh
require_tools kcat curl python3
REDIS_PID=""; BROKER_PID=""; RUN_PIDS=()
trap integration_cleanup EXIT

SPEC=examples/store_order_count.yaml
TOPIC=store_timeline_events
RECORDS=60000
[ "$BUILD" = release ] || RECORDS=10000

start_broker "$TOPIC:4" || exit 1
"$PIPEC" proxy "$SPEC" --listen 127.0.0.1:0 --brokers "$BROKERS" --no-access-log --max-body-bytes 300000000 \
  --max-records 100000 > "$WORK/proxy.out" 2> "$WORK/proxy.err" &
PROXY_PID=$!
RUN_PIDS+=($PROXY_PID)
wait_for 10 grep -q '^listening on ' "$WORK/proxy.out" || { echo "FAIL the proxy did not start"; cat "$WORK/proxy.err"; exit 1; }
PROXY_URL=$(sed -n 's/^listening on //p' "$WORK/proxy.out")
wait_for 20 curl -sf "$PROXY_URL/readyz" -o /dev/null || { echo "FAIL the proxy never became ready"; exit 1; }
V3="/v3/clusters/default/topics/$TOPIC/records"
peak_kib() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$PROXY_PID/status"; }
end_offsets() {  # the sum over the topic's partitions of their next offset
  local total=0 p last
  for p in 0 1 2 3; do
    last=$(kcat -C -b "$BROKERS" -t $TOPIC -p $p -o -1 -c 1 -e -q -f '%o\n' 2> /dev/null)
    total=$((total + ${last:-"-1"} + 1))
  done
  echo "$total"
}

# A small streamed request first: the code paths warm, then the baseline of the peak.
printf '{"value": {"data": {"storeId": "1"}}}\n{"value": {"data": {"storeId": "2"}}}' |
  curl -s -o /dev/null -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary @- "$PROXY_URL$V3"
BEFORE_KIB=$(peak_kib)
BEFORE_OFFSETS=$(end_offsets)

# The long stream: a generator, so the client never holds the body either.
python3 - "$PROXY_URL" "$V3" "$RECORDS" "$WORK" <<'PY'
import http.client, json, sys, time, urllib.parse
url, path, records, work = urllib.parse.urlparse(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
padding = "p" * 1500
sent = [0]
def body():
    chunk = []
    for n in range(records):
        record = {"key": {"type": "STRING", "data": f"k{n}"},
                  "value": {"type": "JSON", "data": {"storeId": str(n % 97), "orderId": f"o{n}-{padding}", "itemCount": n % 7}}}
        chunk.append(json.dumps(record) + "\n")
        if len(chunk) == 50:
            text = "".join(chunk).encode()
            sent[0] += len(text)
            yield text
            chunk = []
    if chunk:
        text = "".join(chunk).encode()
        sent[0] += len(text)
        yield text
connection = http.client.HTTPConnection(url.hostname, url.port, timeout=300)
started = time.monotonic()
connection.request("POST", path, body=body(), headers={"Content-Type": "application/json"}, encode_chunked=True)
response = connection.getresponse()
lines = response.read().decode().splitlines()
seconds = time.monotonic() - started
codes = [json.loads(line)["error_code"] for line in lines]
keys_in_order = all(json.loads(lines[i])["value"]["size"] > 1500 for i in (0, len(lines) // 2, len(lines) - 1)) if lines else False
json.dump({"status": response.status, "answers": len(codes), "acknowledged": codes.count(200), "bytes": sent[0],
           "seconds": seconds, "sizes_ok": keys_in_order, "chunked": response.getheader("Transfer-Encoding")},
          open(f"{work}/stream.json", "w"))
PY
AFTER_KIB=$(peak_kib)
result() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$WORK/stream.json" "$1"; }
BODY_BYTES=$(result bytes)
echo "     (streamed $((BODY_BYTES / 1048576)) MiB, $RECORDS records in $(result seconds | cut -c1-5) s; the proxy's peak memory $((BEFORE_KIB / 1024)) → $((AFTER_KIB / 1024)) MiB)"
check "the stream is answered 200" 200 "$(result status)"
check "one answer per record" "$RECORDS" "$(result answers)"
check "every record acknowledged" "$RECORDS" "$(result acknowledged)"
check "the answer is written chunked, as rendered" chunked "$(result chunked)"
check "the topic grew by the stream's records" "$RECORDS" "$(( $(end_offsets) - BEFORE_OFFSETS ))"
GROWTH_KIB=$((AFTER_KIB - BEFORE_KIB))
if [ "$BUILD" != release ]; then
  echo "skip the memory bound: a sanitizer build"
elif [ $((GROWTH_KIB * 1024)) -lt $((BODY_BYTES / 4)) ]; then
  echo "ok   the proxy's peak memory grew by $((GROWTH_KIB / 1024)) MiB for a $((BODY_BYTES / 1048576)) MiB body (< 1/4)"
else
  echo "FAIL the proxy's peak memory grew by $((GROWTH_KIB / 1024)) MiB for a $((BODY_BYTES / 1048576)) MiB body (not < 1/4: the body is held)"
  failures=$((failures + 1))
fi

# --- limits on streams, and the connection afterwards -----------------------------------------------------------------
stop_pid "$PROXY_PID"
"$PIPEC" proxy "$SPEC" --listen 127.0.0.1:0 --brokers "$BROKERS" --no-access-log --max-body-bytes 20000 --max-records 30 \
  > "$WORK/limits.out" 2> "$WORK/limits.err" &
RUN_PIDS+=($!)
wait_for 10 grep -q '^listening on ' "$WORK/limits.out"
PROXY_URL=$(sed -n 's/^listening on //p' "$WORK/limits.out")
wait_for 20 curl -sf "$PROXY_URL/readyz" -o /dev/null
python3 - "$PROXY_URL" "$V3" "$TOPIC" > "$WORK/limits.txt" <<'PY'
import http.client, json, sys, urllib.parse
url, path, topic = urllib.parse.urlparse(sys.argv[1]), sys.argv[2], sys.argv[3]
connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
def stream(records, size, target=path, content_type="application/json", v2=False):
    def body():
        if v2:
            yield b'{"records": ['
        for n in range(records):
            record = {"value": {"storeId": str(n)}} if v2 else {"value": {"data": {"storeId": str(n), "orderId": "x" * size}}}
            yield ((", " if v2 and n else "") + json.dumps(record) + ("" if v2 else "\n")).encode()
        if v2:
            yield b"]}"
    connection.request("POST", target, body=body(), headers={"Content-Type": content_type}, encode_chunked=True)
    response = connection.getresponse()
    return response.status, response.read().decode()
def summary(status, text):
    lines = [json.loads(line) for line in text.splitlines()]
    return f"{status} {sum(1 for l in lines if l['error_code'] == 200)}x200 then {lines[-1]['error_code']}: {lines[-1].get('message', '')}"
print(summary(*stream(40, 10)))             # 40 records > --max-records 30
print(summary(*stream(100, 2000)))          # ~200 KB > --max-body-bytes 20000 by the 10th record, before --max-records 30
status, text = stream(2000, 0, f"/topics/{topic}", "application/vnd.kafka.json.v2+json", v2=True)
print(status, json.loads(text)["error_code"])  # a v2 body past the limit: refused whole
status, text = stream(2, 10)                # the same connection still serves
print(summary(status, text))
PY
check "a stream past --max-records: the first 30 produced, then one 413" \
  "200 30x200 then 413: more than 30 records in one request: the rest of the body was not read" "$(sed -n 1p "$WORK/limits.txt")"
check "a stream past --max-body-bytes: the records within it produced, then one 413" \
  "the request body is larger than 20000 bytes: the rest of it was not read" "$(sed -n 2p "$WORK/limits.txt" | sed 's/.*413: //')"
check "…and some records before it" 1 "$(sed -n 2p "$WORK/limits.txt" | grep -c '^200 [1-9][0-9]*x200 then 413')"
check "a chunked v2 body past --max-body-bytes: 413" "413 413" "$(sed -n 3p "$WORK/limits.txt")"
check "the connection serves the next request after an over-limit body" "200 2x200 then 200: " "$(sed -n 4p "$WORK/limits.txt")"

echo "proxy stream: $failures failure(s)"
[ "$failures" = 0 ] || { echo "--- proxy stderr:"; tail -20 "$WORK/proxy.err"; }
[ "$failures" = 0 ]
