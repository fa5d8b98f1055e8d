#!/usr/bin/env bash
# The broker goes away while clients keep posting (issue 15): four HTTP clients post without pause to `pipec proxy` —
# v3 single records, v3 streaming bodies and v2 batches, every record with a unique order id — while the broker is
# taken down for ~4 s and brought back (`pipec broker`: SIGUSR1 closes and refuses every connection, SIGUSR2 accepts
# again; the topic keeps its records, as a restarted Kafka broker keeps its log). Then the topic is read back:
#   - every record that was answered 200 is on the topic exactly once, with the key, value bytes and envelope it was
#     accepted with; nothing is on the topic that no client sent;
#   - every other record got an error status that says so (503/429 with Retry-After, or 504), and a request never
#     hangs: each is answered within the delivery timeout + 5 s;
#   - records refused while the cluster was known to be down (503 before being queued) are not on the topic;
#   - the outage was seen (some 503s, /readyz 503 during it) and the proxy recovered (200s after it, /readyz 200).
#   tests/proxy/run_proxy_outage.sh PIPEC        exit 0 pass, 1 fail, 77 skipped
set -uo pipefail
PIPEC=$(realpath "$1")
cd "$(dirname "$0")/../.."
WORK=$(mktemp -d)
source tests/integration/lib.sh
require_tools kcat curl python3
REDIS_PID=""; BROKER_PID=""; RUN_PIDS=()
trap integration_cleanup EXIT

SPEC=examples/store_order_count.yaml
TOPIC=store_timeline_events
DELIVERY_TIMEOUT_MS=8000

start_broker "$TOPIC:3" || exit 1
"$PIPEC" proxy "$SPEC" --listen 127.0.0.1:0 --brokers "$BROKERS" --delivery-timeout $DELIVERY_TIMEOUT_MS \
  --no-access-log > "$WORK/proxy.out" 2> "$WORK/proxy.err" &
RUN_PIDS+=($!)
wait_for 10 grep -q '^listening on ' "$WORK/proxy.out" || { echo "FAIL the proxy did not start"; cat "$WORK/proxy.err"; exit 1; }
PROXY_URL=$(sed -n 's/^listening on //p' "$WORK/proxy.out")
wait_for 20 curl -sf "$PROXY_URL/readyz" -o /dev/null || { echo "FAIL the proxy never became ready"; exit 1; }

# The clients and the outage: 2 s of traffic, the brokers down for 4 s, 4 s of traffic after they are back.
python3 - "$PROXY_URL" "$BROKER_PID" "$TOPIC" "$WORK" "$DELIVERY_TIMEOUT_MS" <<'PY'
import base64, http.client, json, os, signal, sys, threading, time, urllib.parse
url, broker_pid, topic, work, delivery_timeout_ms = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
address = urllib.parse.urlparse(url)
answer_limit = delivery_timeout_ms / 1000 + 5 + 3  # the proxy's own bound, and slack for a loaded machine
stop = threading.Event()
lock = threading.Lock()
verdicts = []   # one per record sent: {"id", "status", "message", "key", "value", "created_at"}
requests = []   # one per request: {"kind", "status", "seconds", "retry_after"}
readiness = []  # (phase, status) samples of /readyz
# Phases by when a request was sent: before, outage (brokers down), after (brokers back, 4 s to reconnect),
# recovered (the last 2 s: every record must be acknowledged).
phase = ["before"]

def record(client, n):
    order = f"c{client}-{n}"
    value = {"storeId": str(100 + n % 37), "orderId": order, "itemCount": n % 9 + 1,
             "hasStoreOrderConfirmedData": n % 2 == 0}
    return {"id": order, "key": order, "value": value, "created_at": str(1767225600000 + n)}

def v3_record(r):
    return {"headers": [{"name": "event-created-at", "value": base64.b64encode(r["created_at"].encode()).decode()}],
            "key": {"type": "STRING", "data": r["key"]}, "value": {"type": "JSON", "data": r["value"]}}

def client(number):
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=answer_limit + 10)
    n = 0
    kinds = ["v3_single", "v3_stream", "v2_batch"]
    while not stop.is_set():
        kind = kinds[n % 3]
        batch = [record(number, n + i) for i in range(1 if kind == "v3_single" else 5)]
        n += len(batch)
        if kind == "v2_batch":
            path, content_type = f"/topics/{topic}", "application/vnd.kafka.json.v2+json"
            body = json.dumps({"records": [{"key": r["key"], "value": r["value"]} for r in batch]})
            for r in batch:
                r["created_at"] = None  # v2 has no record headers: the receive time
        else:
            path, content_type = f"/v3/clusters/default/topics/{topic}/records", "application/json"
            body = "\n".join(json.dumps(v3_record(r)) for r in batch)
        started = time.monotonic()
        sent_in = phase[0]
        try:
            connection.request("POST", path, body=body, headers={"Content-Type": content_type})
            response = connection.getresponse()
            text = response.read().decode()
            status = response.status
            retry_after = response.getheader("Retry-After")
        except Exception as error:  # a hang (timeout) or a dropped connection: the record's fate is unknown
            status, text, retry_after = 0, str(error), None
            connection.close()
            connection = http.client.HTTPConnection(address.hostname, address.port, timeout=answer_limit + 10)
        seconds = time.monotonic() - started
        # Per-record verdicts: v3 streaming answers a line per record, v2 an `offsets` entry, a single record the status.
        per_record = []
        if status == 200 and kind == "v3_stream":
            per_record = [(json.loads(line)["error_code"], json.loads(line).get("message", "")) for line in text.splitlines()]
        elif status == 200 and kind == "v2_batch":
            per_record = [(200 if o["error_code"] is None else 503 if o["error_code"] == 2 else 500, o["error"] or "")
                          for o in json.loads(text)["offsets"]]
        else:
            message = ""
            if status not in (0, 200):
                try:
                    message = json.loads(text)["message"]
                except Exception:
                    message = text
            per_record = [(status, message)] * len(batch)
        with lock:
            requests.append({"kind": kind, "status": status, "seconds": seconds, "retry_after": retry_after,
                             "phase": sent_in, "refused": sum(1 for s, _ in per_record if s != 200)})
            for r, (s, m) in zip(batch, per_record):
                verdicts.append(dict(r, status=s, message=m, phase=sent_in))
            if len(per_record) != len(batch):
                verdicts.extend(dict(r, status=-1, message="no verdict", phase=sent_in) for r in batch[len(per_record):])
        if status != 200 or any(s != 200 for s, _ in per_record):
            time.sleep(0.05)  # a client backs off a little after a refusal (the proxy says Retry-After: 1)

def probe():
    while not stop.is_set():
        try:
            connection = http.client.HTTPConnection(address.hostname, address.port, timeout=5)
            connection.request("GET", "/readyz")
            readiness.append((phase[0], connection.getresponse().status))
            connection.close()
        except Exception:
            readiness.append((phase[0], 0))
        time.sleep(0.2)

threads = [threading.Thread(target=client, args=(i,)) for i in range(4)] + [threading.Thread(target=probe)]
for thread in threads:
    thread.start()
time.sleep(2)
phase[0] = "outage"
os.kill(broker_pid, signal.SIGUSR1)
time.sleep(4)
phase[0] = "after"
os.kill(broker_pid, signal.SIGUSR2)
time.sleep(4)
phase[0] = "recovered"
time.sleep(2)  # clients still post; the last phase must be all 200
stop.set()
for thread in threads:
    thread.join()
json.dump({"verdicts": verdicts, "requests": requests, "readiness": readiness}, open(f"{work}/clients.json", "w"))
PY

# Everything the proxy acknowledged was flushed before its answer; give stragglers of failed deliveries a moment.
sleep 1
kcat -C -b "$BROKERS" -t $TOPIC -e -q -f '%K %S %p %o %h\n%k%s' > "$WORK/topic.bin" 2> "$WORK/kcat.err"

python3 - "$WORK" "$DELIVERY_TIMEOUT_MS" > "$WORK/verdict.txt" <<'PY'
import json, sys
work, delivery_timeout_ms = sys.argv[1], int(sys.argv[2])
state = json.load(open(f"{work}/clients.json"))
verdicts, requests, readiness = state["verdicts"], state["requests"], state["readiness"]

def varint(value):
    out = bytearray()
    value &= (1 << 64) - 1
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)

def encode(value):
    # StoreTimelineEvent in field-number order, as Protobuf serializes it: store_id = 1 (int64), order_id = 2
    # (string), has_store_order_confirmed_data = 4 (bool, absent when false), item_count = 8 (int32).
    order = value["orderId"].encode()
    out = b"\x08" + varint(int(value["storeId"])) + b"\x12" + varint(len(order)) + order
    if value["hasStoreOrderConfirmedData"]:
        out += b"\x20\x01"
    return out + b"\x40" + varint(value["itemCount"])

# The topic: "KEYLEN VALUELEN PARTITION OFFSET HEADERS\n" then the key and value bytes, per record.
data = open(f"{work}/topic.bin", "rb").read()
on_topic = {}
duplicates = []
position = 0
while position < len(data):
    end = data.index(b"\n", position)
    key_length, value_length, partition, offset, headers = data[position:end].decode().split(" ", 4)
    position = end + 1
    key = data[position:position + int(key_length)]
    position += int(key_length)
    value = data[position:position + int(value_length)]
    position += int(value_length)
    name = key.decode()
    if name in on_topic:
        duplicates.append(name)
    on_topic[name] = (value, dict(h.split("=", 1) for h in headers.split(",")))

sent = {v["id"]: v for v in verdicts}
acknowledged = [v for v in verdicts if v["status"] == 200]
errors = [v for v in verdicts if v["status"] != 200]
lost = [v["id"] for v in acknowledged if v["id"] not in on_topic]
wrong = []
for v in acknowledged:
    if v["id"] not in on_topic:
        continue
    value, headers = on_topic[v["id"]]
    expected_headers = {"event-source": "anonymous", "event-encoding": "protobuf",
                        "event-schema": "com.doordash.timeline_events.StoreTimelineEvent"}
    if v["created_at"] is not None:
        expected_headers["event-created-at"] = v["created_at"]
    if value != encode(v["value"]) or any(headers.get(k) != x for k, x in expected_headers.items()):
        wrong.append(v["id"])
unknown = [name for name in on_topic if name not in sent]
refused_up_front = [v for v in errors if "is unreachable" in v["message"]]
refused_but_there = [v["id"] for v in refused_up_front if v["id"] in on_topic]
ambiguous = [v for v in errors if "is unreachable" not in v["message"]]
unclear = [v for v in errors if v["status"] not in (429, 503, 504)]
slowest = max(r["seconds"] for r in requests)
no_retry_after = [r for r in requests if r["status"] in (429, 503) and not r["retry_after"]]

def line(ok, text):
    print(("ok   " if ok else "FAIL ") + text)

line(True, f"{len(verdicts)} records in {len(requests)} requests: {len(acknowledged)} acknowledged (200), {len(errors)} "
           f"refused ({len(refused_up_front)} while the cluster was known down, {len(ambiguous)} failed in delivery, of "
           f"which {sum(1 for v in ambiguous if v['id'] in on_topic)} reached the topic anyway); {len(on_topic)} on the topic")
line(not lost, f"every acknowledged record is on the topic ({len(lost)} lost{': ' + ', '.join(lost[:5]) if lost else ''})")
line(not duplicates, f"no record is on the topic twice ({len(duplicates)} duplicated{': ' + ', '.join(duplicates[:5]) if duplicates else ''})")
line(not wrong, f"each acknowledged record has the key, value bytes and envelope it was accepted with ({len(wrong)} differ)")
line(not unknown, f"nothing on the topic that no client sent ({len(unknown)} unknown)")
line(not refused_but_there, f"records refused as the cluster was down are not on the topic ({len(refused_but_there)} are)")
line(not unclear, f"every refusal is 503/429/504 ({', '.join(sorted({str(v['status']) + ' ' + v['message'][:60] for v in unclear})[:3])})")
line(not no_retry_after, f"every 503/429 answer says Retry-After ({len(no_retry_after)} do not)")
line(slowest <= delivery_timeout_ms / 1000 + 5 + 3, f"no request hung: the slowest took {slowest:.1f} s")
outage_refusals = sum(1 for v in errors if v["phase"] in ("outage", "after"))
# Requests in flight when the brokers went away wait for delivery (up to the delivery timeout), so on a loaded machine
# every client can be waiting through the whole outage and send its next request only once the proxy reconnected:
# then the outage shows as requests held for seconds and answered 200 afterwards, not as refusals.
held = sum(1 for r in requests if r["phase"] in ("before", "outage") and r["status"] == 200 and r["seconds"] >= 2.0)
line(outage_refusals > 0 or held > 0,
     f"the outage was seen by the clients: {outage_refusals} record(s) refused during it, {held} request(s) held "
     f"until the brokers were back")
line(any(s == 503 for p, s in readiness if p == "outage"), "/readyz answered 503 during the outage")
recovered = [v for v in verdicts if v["phase"] == "recovered"]
line(recovered and all(v["status"] == 200 for v in recovered),
     f"after the brokers were back the proxy recovered: {sum(1 for v in recovered if v['status'] == 200)}/{len(recovered)} "
     f"records of the last 2 s acknowledged")
line(readiness and readiness[-1][1] == 200, "/readyz is 200 again at the end")
PY
cat "$WORK/verdict.txt"
failures=$(grep -c '^FAIL' "$WORK/verdict.txt")
echo "proxy outage: $failures failure(s)"
[ "$failures" = 0 ] || { echo "--- proxy stderr:"; tail -20 "$WORK/proxy.err"; }
[ "$failures" = 0 ]
