#!/usr/bin/env python3
"""Writes the seeds of the `record` fuzz target (tests/fuzz/seeds/record/) from examples/data: Kafka records as the
target reads them (see the input layout in fuzz_record.cpp), in binary Protobuf, the JSON mapping and the Confluent
framing, with envelope headers, plus the bad records the Kafka job rejects. Run from the repository root."""
import base64
import json
import os
import struct

EVENT_TYPES = {"EVENT_TYPE_UNSPECIFIED": 0, "ORDER_CREATED": 1, "ORDER_CONFIRMED": 2, "ORDER_PICKED_UP": 3,
               "ORDER_DELIVERED": 4, "ORDER_CANCELLED": 5}
SEPARATOR = b"\n----\n"
# exampleJobs() order: the example specs sorted by path.
CONSUMER_SESSION_COUNT, DELIVERY_WAIT_AVG, STORE_ORDER_COUNT = 0, 1, 2
JSON_LINES, HOLD = 4, 8


def varint(value):
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number, wire_type, payload):
    key = varint(number << 3 | wire_type)
    if wire_type == 0:
        return key + varint(payload)
    if wire_type == 1:
        return key + payload
    return key + varint(len(payload)) + payload


def encode(event):
    """StoreTimelineEvent (schemas/com/doordash/timeline_events/store_timeline_event.proto) in binary."""
    out = field(1, 0, int(event["storeId"]))
    out += field(2, 2, event["orderId"].encode())
    out += field(3, 0, EVENT_TYPES[event["eventType"]])
    if event.get("hasStoreOrderConfirmedData"):
        out += field(4, 0, 1)
    millis = int(event["eventTimeMs"])
    out += field(5, 2, field(1, 0, millis // 1000) + field(2, 0, millis % 1000 * 1000000))
    out += field(6, 0, int(event["consumerId"]))
    if "deliveryWaitSeconds" in event:
        out += field(7, 1, struct.pack("<d", event["deliveryWaitSeconds"]))
    out += field(8, 0, event["itemCount"]) + field(9, 0, int(event["subtotalCents"]))
    out += field(10, 2, field(1, 1, struct.pack("<d", 37.77)) + field(2, 1, struct.pack("<d", -122.42)) + field(3, 2, b"sf"))
    if "promoCode" in event:
        out += field(11, 2, field(1, 2, event["promoCode"].encode()))
    out += field(12, 0, millis)
    out += field(13, 2, b"new") + field(13, 2, b"web")
    return out


def record(value, headers=()):
    return b"".join(f"{name}:{text}\n".encode() for name, text in headers) + b"\n" + value


def write(name, selector, records):
    with open(os.path.join("tests/fuzz/seeds/record", name), "wb") as out:
        out.write(bytes([selector]) + SEPARATOR.join(records))


def main():
    os.makedirs("tests/fuzz/seeds/record", exist_ok=True)
    with open("examples/data/store_timeline_events.jsonl") as data:
        events = [json.loads(line) for line in data][:8]
    created = [("event-created-at", e["eventTimeMs"]) for e in events]
    fields = [{k: v for k, v in e.items() if k != "_time"} for e in events]
    binary = [record(encode(e), [c]) for e, c in zip(events, created)]
    for job, name in ((STORE_ORDER_COUNT, "store_order_count"), (DELIVERY_WAIT_AVG, "delivery_wait_avg"),
                      (CONSUMER_SESSION_COUNT, "consumer_session_count")):
        write(f"{name}_protobuf", job, binary)
        write(f"{name}_json_lines", job | JSON_LINES, [json.dumps(e).encode() for e in events])
    write("store_order_count_protobuf_hold", STORE_ORDER_COUNT | HOLD, binary)
    write("store_order_count_json_encoding", STORE_ORDER_COUNT,
          [record(json.dumps(f).encode(), [c, ("event-encoding", "json"), ("event-source", "fuzz-seed")])
           for f, c in zip(fields, created)])
    confluent = b"\x00\x00\x00\x00\x2a\x00"  # magic byte, schema id 42, message indexes [0]
    write("store_order_count_confluent", STORE_ORDER_COUNT,
          [record(confluent + encode(e), [c, ("event-encoding", "confluent-protobuf"), ("event-schema", "42")])
           for e, c in zip(events, created)])
    bad = [
        record(encode(events[0]), [("event-created-at", "yesterday")]),
        record(encode(events[1]), [created[1], ("event-encoding", "avro")]),
        record(encode(events[2]), [created[2], ("event-schema", "com.example.Other")]),
        record(b"\xff\xff\xff\xff", [created[3]]),
        record(b"", [created[4]]),
        b"!null",
        record(encode(events[5]), [("event-created-at", "99999999999999999")]),
        record(b"\x00\x01", [created[6], ("event-encoding", "confluent-protobuf")]),
        record(base64.b64encode(encode(events[7])), [created[7], ("event-encoding", "json")]),
        encode(events[7]),
    ]
    write("store_order_count_bad_records", STORE_ORDER_COUNT, bad)


if __name__ == "__main__":
    main()
