#!/usr/bin/env bash
# `pipec proxy` against `pipec broker`, with curl as the client and kcat/protoc reading back what was produced:
# v3 single and streaming records, v2 batches (json and binary), the payload bytes (protoc --decode) and the exact
# envelope headers, refused records (422 with the field path, nothing on the topic), 401/403, 413/415/429, async
# (202) and sync (200) answers, the cluster and topic listings, metrics, and readiness before and after the canary.
#   tests/proxy/run_proxy.sh PIPEC        exit 0 pass, 1 fail, 77 skipped
set -uo pipefail
PIPEC=$(realpath "$1")
cd "$(dirname "$0")/../.."
WORK=$(mktemp -d)
source tests/integration/lib.sh
require_tools kcat curl protoc python3
REDIS_PID=""; BROKER_PID=""; RUN_PIDS=()
trap integration_cleanup EXIT

SPEC=examples/store_order_count.yaml
TOPIC=store_timeline_events
MESSAGE=com.doordash.timeline_events.StoreTimelineEvent
ORDER_KEY=order-service-key-0123456789
OTHER_KEY=other-service-key-0123456789
SLOW_KEY=slow-service-key-0123456789

json() {  # json EXPRESSION < JSON: prints a Python expression over the parsed document `d`
  python3 -c 'import json, sys; d = json.load(sys.stdin); v = eval(sys.argv[1]); print(json.dumps(v) if isinstance(v, (dict, list)) or v is None else v)' "$1"
}
b64() { printf '%s' "$1" | base64 -w0; }
count_records() {  # count_records TOPIC [BROKERS]
  kcat -C -b "${2:-$BROKERS}" -t "$1" -e -q -f '%o\n' 2> /dev/null | wc -l
}
start_proxy() {  # start_proxy NAME ARGS...: sets PROXY_URL and appends to RUN_PIDS
  local name=$1; shift
  rm -f "$WORK/$name.out"
  "$PIPEC" proxy "$SPEC" --listen 127.0.0.1:0 "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" &
  RUN_PIDS+=($!)
  PROXY_URL=""
  for _ in $(seq 200); do
    PROXY_URL=$(sed -n 's/^listening on //p' "$WORK/$name.out" 2> /dev/null)
    [ -n "$PROXY_URL" ] && return 0
    sleep 0.05
  done
  echo "FAIL pipec proxy printed no listening line"; cat "$WORK/$name.err"; return 1
}
post() {  # post KEY PATH CONTENT_TYPE BODY [CURL ARGS…] → "STATUS BODY" lines in $WORK/response, prints the status
  local key=$1 path=$2 type=$3 body=$4; shift 4
  local auth=()
  [ -n "$key" ] && auth=(-H "Authorization: Bearer $key")
  curl -s -o "$WORK/response" -D "$WORK/response_headers" -w '%{http_code}' -X POST "${auth[@]}" -H "Content-Type: $type" \
    --data-binary "$body" "$@" "$PROXY_URL$path"
}
V3="/v3/clusters/default/topics/$TOPIC/records"

cat > "$WORK/keys.yaml" <<YAML
- {name: order-service, key: $ORDER_KEY, topics: ["store_*", "raw_*"]}
- {name: other-service, key: $OTHER_KEY, topics: [payments]}
- {name: slow-service, key: $SLOW_KEY, topics: ["*"], records_per_second: 5}
YAML

start_broker "$TOPIC:1,raw_events:1,canary:1" || exit 1
start_proxy main --brokers "$BROKERS" --api-keys "$WORK/keys.yaml" --canary-topic canary --allow-untyped-topics \
  --max-records 20 --max-body-bytes 65536 || exit 1
wait_for 20 curl -sf "$PROXY_URL/readyz" -o /dev/null
check "/readyz is 200 once the canary was produced" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$PROXY_URL/readyz")"
check "/healthz is 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$PROXY_URL/healthz")"
check "the canary record is on the canary topic" 1 "$(count_records canary)"

# --- who may produce ----------------------------------------------------------------------------------------------
RECORD='{"value": {"type": "JSON", "data": {"storeId": "101", "hasStoreOrderConfirmedData": true}}}'
check "no key: 401" 401 "$(post "" "$V3" application/json "$RECORD")"
check "401 body in Confluent's error shape" 401 "$(json 'd["error_code"]' < "$WORK/response")"
check "a wrong key: 401" 401 "$(post wrong-key-0123456789 "$V3" application/json "$RECORD")"
check "a key without the topic: 403" 403 "$(post "$OTHER_KEY" "$V3" application/json "$RECORD")"
check "basic auth with a wrong name: 401" 401 "$(post "" "$V3" application/json "$RECORD" -u "other-service:$ORDER_KEY")"
check "nothing was produced for 401/403" 0 "$(count_records $TOPIC)"

# --- v3, one record -----------------------------------------------------------------------------------------------
SINGLE="{\"headers\": [{\"name\": \"event-created-at\", \"value\": \"$(b64 1767225610611)\"}], \"key\": {\"type\": \"STRING\", \"data\": \"101\"},
         \"value\": {\"type\": \"JSON\", \"data\": {\"store_id\": 101, \"hasStoreOrderConfirmedData\": true, \"eventType\": \"ORDER_CONFIRMED\"}}}"
check "v3 single record: 200" 200 "$(post "$ORDER_KEY" "$V3" application/json "$SINGLE")"
check "v3 response: error_code/cluster/topic/partition/offset" "200 default $TOPIC 0 0" \
  "$(json '" ".join(str(d[k]) for k in ["error_code", "cluster_id", "topic_name", "partition_id", "offset"])' < "$WORK/response")"
check "v3 response: value size and type" "JSON 6" "$(json 'd["value"]["type"] + " " + str(d["value"]["size"])' < "$WORK/response")"
check "v3 response: the record's timestamp, ISO 8601, now" 1 \
  "$(json 'int(abs(__import__("datetime").datetime.fromisoformat(d["timestamp"].replace("Z", "+00:00")).timestamp() - __import__("time").time()) < 60)' < "$WORK/response")"
check "the record's headers are exactly the envelope" \
  "event-created-at=1767225610611,event-source=order-service,event-encoding=protobuf,event-schema=$MESSAGE" \
  "$(kcat -C -b "$BROKERS" -t $TOPIC -o 0 -c 1 -e -q -f '%h' 2> /dev/null)"
check "the record's key" 101 "$(kcat -C -b "$BROKERS" -t $TOPIC -o 0 -c 1 -e -q -f '%k' 2> /dev/null)"
kcat -C -b "$BROKERS" -t $TOPIC -o 0 -c 1 -e -q -f '%s' > "$WORK/value.bin" 2> /dev/null
check "the value is binary Protobuf that protoc decodes" \
  "store_id: 101|event_type: ORDER_CONFIRMED|has_store_order_confirmed_data: true" \
  "$(protoc --decode=$MESSAGE -I schemas schemas/com/doordash/timeline_events/store_timeline_event.proto < "$WORK/value.bin" | paste -sd'|')"

# --- a record that does not fit -----------------------------------------------------------------------------------
check "a record that does not fit: 422" 422 "$(post "$ORDER_KEY" "$V3" application/json '{"value": {"type": "JSON", "data": {"store_id": "abc"}}}')"
check "422 names the field and the reason" '$.store_id: expected an integer, found the string "abc"' "$(json 'd["message"]' < "$WORK/response")"
check "422 with Confluent's error_code" 422 "$(json 'd["error_code"]' < "$WORK/response")"
check "nothing of the refused record is on the topic" 1 "$(count_records $TOPIC)"

# --- v3 streaming: three records, the middle one refused ----------------------------------------------------------
STREAM='{"value": {"data": {"storeId": "102"}}}
{"value": {"data": {"storeId": "103", "itemCount": "many"}}}{"key": {"type": "BINARY", "data": "MTA0"}, "value": {"type": "PROTOBUF", "data": {"storeId": "104"}}}'
check "v3 streaming: 200" 200 "$(post "$ORDER_KEY" "$V3" application/json "$STREAM")"
check "one response per record, in order" "200,422,200" \
  "$(python3 -c 'import json, sys; print(",".join(str(json.loads(l)["error_code"]) for l in open(sys.argv[1])))' "$WORK/response")"
check "the accepted ones got consecutive offsets" "1,2" \
  "$(python3 -c 'import json, sys; print(",".join(str(json.loads(l)["offset"]) for l in open(sys.argv[1]) if json.loads(l)["error_code"] == 200))' "$WORK/response")"
check "the refused one says why" '$.itemCount: expected an integer, found the string "many"' \
  "$(sed -n 2p "$WORK/response" | json 'd["message"]')"
check "two more records on the topic" 3 "$(count_records $TOPIC)"

# --- v2 ----------------------------------------------------------------------------------------------------------
V2_JSON='{"records": [{"key": "105", "value": {"storeId": "105"}}, {"value": {"storeId": "oops"}}, {"value": {"storeId": "106"}, "partition": 0}]}'
check "v2 json batch: 200" 200 "$(post "$ORDER_KEY" /topics/$TOPIC application/vnd.kafka.json.v2+json "$V2_JSON")"
check "v2 offsets: per record, the refused one with error_code 1" "3 None 4" \
  "$(json '" ".join(str(o["offset"]) for o in d["offsets"])' < "$WORK/response")"
check "v2 refused record says why" '$.storeId: expected an integer, found the string "oops"' "$(json 'd["offsets"][1]["error"]' < "$WORK/response")"
check "v2 content type" "application/vnd.kafka.v2+json" "$(grep -i '^content-type' "$WORK/response_headers" | tr -d '\r' | cut -d' ' -f2)"
V2_BINARY="{\"records\": [{\"key\": \"$(b64 k1)\", \"value\": \"$(b64 raw-bytes-1)\"}, {\"value\": \"$(b64 raw-bytes-2)\"}]}"
check "v2 binary batch to an untyped topic: 200" 200 "$(post "$ORDER_KEY" /topics/raw_events application/vnd.kafka.binary.v2+json "$V2_BINARY")"
check "untyped values pass through unchanged" "k1=raw-bytes-1|=raw-bytes-2" \
  "$(kcat -C -b "$BROKERS" -t raw_events -e -q -f '%k=%s\n' 2> /dev/null | paste -sd'|')"
check "untyped records carry created-at and source only" "event-source=order-service" \
  "$(kcat -C -b "$BROKERS" -t raw_events -o 0 -c 1 -e -q -f '%h' 2> /dev/null | cut -d, -f2)"
check "v2 binary with bad base64: 422 (one record)" 422 \
  "$(post "$ORDER_KEY" /topics/raw_events application/vnd.kafka.binary.v2+json '{"records": [{"value": "%%%"}]}')"
check "v2 wrong content type: 415" 415 "$(post "$ORDER_KEY" /topics/$TOPIC application/json "$V2_JSON")"
check "v3 wrong content type: 415" 415 "$(post "$ORDER_KEY" "$V3" application/x-www-form-urlencoded "$RECORD")"
check "malformed JSON: 400" 400 "$(post "$ORDER_KEY" "$V3" application/json '{"value": {"data": ')"
check "a topic no spec types, on v3 of another cluster: 404" 404 \
  "$(post "$ORDER_KEY" /v3/clusters/elsewhere/topics/$TOPIC/records application/json "$RECORD")"

# --- limits ------------------------------------------------------------------------------------------------------
python3 -c 'print("{\"value\": {\"data\": {\"orderId\": \"" + "x" * 70000 + "\"}}}")' > "$WORK/big.json"
check "a body over --max-body-bytes: 413" 413 "$(post "$ORDER_KEY" "$V3" application/json "@$WORK/big.json")"
MANY=$(for i in $(seq 21); do printf '{"value": {"data": {"storeId": "%s"}}}' "$i"; done)
check "more records than --max-records: 413" 413 "$(post "$ORDER_KEY" "$V3" application/json "$MANY")"
check "413 in Confluent's error shape" 413 "$(json 'd["error_code"]' < "$WORK/response")"
BURST=$(for i in $(seq 5); do printf '{"value": {"data": {"storeId": "20%s"}}}' "$i"; done)
check "rate limit: a second's worth passes" 200 "$(post "$SLOW_KEY" "$V3" application/json "$BURST")"
check "rate limit: the next request is 429" 429 "$(post "$SLOW_KEY" "$V3" application/json "$BURST")"
check "429 says when to retry" 1 "$(grep -ci '^retry-after: [0-9]' "$WORK/response_headers")"
BEFORE_ASYNC=$(count_records $TOPIC)
check "nothing of the limited or oversized requests is on the topic" 10 "$BEFORE_ASYNC"

# --- async -------------------------------------------------------------------------------------------------------
check "async: 202 once queued" 202 "$(post "$ORDER_KEY" "$V3?async=true" application/json "$RECORD")"
check "async: no offset yet" "202 None" "$(json 'str(d["error_code"]) + " " + str(d["offset"])' < "$WORK/response")"
wait_for 10 test "$(count_records $TOPIC)" -eq $((BEFORE_ASYNC + 1))
check "the async record reached the topic" $((BEFORE_ASYNC + 1)) "$(count_records $TOPIC)"

# --- listings and metrics ----------------------------------------------------------------------------------------
check "GET /v3/clusters" "KafkaClusterList default" \
  "$(curl -s -H "Authorization: Bearer $ORDER_KEY" "$PROXY_URL/v3/clusters" | json 'd["kind"] + " " + d["data"][0]["cluster_id"]')"
check "GET /v3/clusters/default/topics" "$TOPIC 1" \
  "$(curl -s -H "Authorization: Bearer $ORDER_KEY" "$PROXY_URL/v3/clusters/default/topics" | json '" ".join(t["topic_name"] + " " + str(t["partitions_count"]) for t in d["data"])')"
check "listing topics needs a key" 401 "$(curl -s -o /dev/null -w '%{http_code}' "$PROXY_URL/v3/clusters/default/topics")"
check "a key sees only its topics" 0 \
  "$(curl -s -H "Authorization: Bearer $OTHER_KEY" "$PROXY_URL/v3/clusters/default/topics" | json 'len(d["data"])')"
curl -s "$PROXY_URL/metrics" > "$WORK/metrics.txt"
metric() { grep -F "$1" "$WORK/metrics.txt" | grep -v '^#' | awk '{print $NF}'; }
check "metrics: accepted on the typed topic" 11 "$(metric 'pipec_proxy_records_accepted_total{topic="store_timeline_events"}')"
check "metrics: refused as schema_mismatch" 3 "$(metric 'pipec_proxy_records_refused_total{reason="schema_mismatch"}')"
check "metrics: refused as rate_limited" 5 "$(metric 'pipec_proxy_records_refused_total{reason="rate_limited"}')"
check "metrics: ready" 1 "$(metric 'pipec_proxy_ready ')"
check "access log: one JSON line per produce request" 1 \
  "$(grep -c '"path":"/v3/clusters/default/topics/store_timeline_events/records".*"status":422' "$WORK/main.err")"

# --- mutated requests over HTTP: malformed JSON, huge and binary bodies, bad base64, wrong content types ----------
python3 - "$PROXY_URL" "$ORDER_KEY" > "$WORK/fuzz.txt" <<'PY'
import http.client, random, sys, urllib.parse
url, key = urllib.parse.urlparse(sys.argv[1]), sys.argv[2]
random.seed(15)
seeds = [b'{"value": {"type": "JSON", "data": {"storeId": "101", "tags": ["a"], "storeLocation": {"latitude": 1}}}}',
         b'{"headers": [{"name": "event-created-at", "value": "MTc2Nw=="}], "key": {"type": "BINARY", "data": "aGk="}, "value": {"type": "BINARY", "data": "CGU="}}',
         b'{"records": [{"key": "k", "value": {"storeId": "1"}}, {"value": "CGU=", "partition": 0}]}']
types = ["application/json", "application/vnd.kafka.json.v2+json", "application/vnd.kafka.binary.v2+json", "text/plain", "", "application/json; charset=utf-16"]
paths = ["/v3/clusters/default/topics/store_timeline_events/records", "/topics/store_timeline_events", "/topics/raw_events",
         "/v3/clusters/default/topics/raw_events/records"]
statuses = {}
connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
for i in range(400):
    body = bytearray(random.choice(seeds))
    for _ in range(random.randint(1, 4)):
        kind = random.randrange(5)
        at = random.randrange(len(body) + 1)
        if kind == 0: body = body[:at]
        elif kind == 1 and body: body[min(at, len(body) - 1)] = random.randrange(256)
        elif kind == 2: body[at:at] = random.choice([b"{", b"]", b'"', b"\\u0000", b"\xff", b"==", b"1e999", b"null"])
        elif kind == 3: body += random.choice(seeds)
        else: body[at:at] = b"[" * random.randrange(3000)
    headers = {"Authorization": "Bearer " + key}
    content_type = random.choice(types)
    if content_type: headers["Content-Type"] = content_type
    connection.request("POST", random.choice(paths), body=bytes(body), headers=headers)
    response = connection.getresponse()
    response.read()
    statuses[response.status] = statuses.get(response.status, 0) + 1
print(" ".join(f"{s}:{n}" for s, n in sorted(statuses.items())))
PY
check "mutated requests: answered, never a 5xx" 0 "$(tr ' ' '\n' < "$WORK/fuzz.txt" | grep -c '^5')"
check "mutated requests: the proxy still serves" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$PROXY_URL/healthz")"
echo "     (statuses of the mutated requests: $(cat "$WORK/fuzz.txt"))"

# --- readiness before and after the canary -----------------------------------------------------------------------
LATE_PORT=$(free_port)
start_proxy late --brokers "127.0.0.1:$LATE_PORT" --canary-topic canary --delivery-timeout 5000 || exit 1
sleep 1
check "/readyz is 503 while the cluster is not there" 503 "$(curl -s -o "$WORK/readyz" -w '%{http_code}' "$PROXY_URL/readyz")"
check "/readyz says why" 1 "$(grep -c "not ready: warming up: the Kafka cluster \`default\` (127.0.0.1:$LATE_PORT) is unreachable" "$WORK/readyz")"
check "/healthz is 200 meanwhile" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$PROXY_URL/healthz")"
"$PIPEC" broker --port "$LATE_PORT" --topics "$TOPIC:1,canary:1" > "$WORK/late_broker.out" 2> "$WORK/late_broker.err" &
RUN_PIDS+=($!)
wait_for 30 curl -sf "$PROXY_URL/readyz" -o /dev/null
check "/readyz is 200 once the cluster is up and the canary acknowledged" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$PROXY_URL/readyz")"
check "the late proxy's canary is on its topic" "event-source=pipec-proxy" \
  "$(kcat -C -b "127.0.0.1:$LATE_PORT" -t canary -o 0 -c 1 -e -q -f '%h' 2> /dev/null | cut -d, -f2)"

# --- the cluster goes away: an error with Retry-After, never a silent 200 ----------------------------------------
LATE_BROKER_PID=${RUN_PIDS[-1]}
stop_pid "$LATE_BROKER_PID" KILL
sleep 1
status=$(post "" "/v3/clusters/default/topics/$TOPIC/records" application/json "$RECORD")
if [ "$status" == 503 ] && grep -qi '^retry-after: ' "$WORK/response_headers"; then
  echo "ok   a record for an unreachable cluster: 503 with Retry-After"
else
  echo "FAIL a record for an unreachable cluster: expected 503 with Retry-After, got $status $(cat "$WORK/response")"
  failures=$((failures + 1))
fi
check "/readyz is 503 while the cluster is away" 503 "$(curl -s -o /dev/null -w '%{http_code}' "$PROXY_URL/readyz")"

# --- TLS ---------------------------------------------------------------------------------------------------------
if command -v openssl > /dev/null; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2> /dev/null
  start_proxy tls --brokers "$BROKERS" --tls-cert "$WORK/tls.crt" --tls-key "$WORK/tls.key" || exit 1
  check "TLS: the proxy announces https" 1 "$(echo "$PROXY_URL" | grep -c '^https://')"
  check "TLS: a record over HTTPS" 200 "$(post "" "$V3" application/json "$RECORD" --cacert "$WORK/tls.crt")"
  check "TLS: plain HTTP is not served" 000 "$(curl -s -o /dev/null -w '%{http_code}' "${PROXY_URL/https/http}/healthz")"
fi

# --- refusing to listen beyond loopback without keys -------------------------------------------------------------
"$PIPEC" proxy "$SPEC" --listen 0.0.0.0:0 --brokers "$BROKERS" > /dev/null 2> "$WORK/refused.err"
check "no keys on 0.0.0.0: refused (exit 2)" 2 $?
check "…saying why" 1 "$(grep -c 'without API keys' "$WORK/refused.err")"

echo "proxy: $failures failure(s)"
[ "$failures" = 0 ] || { echo "--- proxy stderr:"; tail -30 "$WORK/main.err"; }
[ "$failures" = 0 ]
