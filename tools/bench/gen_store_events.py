#!/usr/bin/env python3
"""Generates StoreTimelineEvents for the replay benchmark (tools/bench/replay_throughput.sh), in event-time order.

    gen_store_events.py EVENTS STORES JSON_OUT LDPB_OUT [SEED]

The same events twice: JSON lines with `_time` (epoch millis; the seed spec takes its time from it) and
length-delimited binary Protobuf whose `created_at` holds that time (for a spec with `time_field: created_at`).
Two hours of event time, uniform random stores, as tools/bench/pipec_bench.cpp generates them in memory.
"""
import random
import sys

EVENT_TYPES = ["ORDER_CREATED", "ORDER_CONFIRMED", "ORDER_PICKED_UP", "ORDER_DELIVERED", "ORDER_CANCELLED"]


def varint(value, out):
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def main():
    events, stores = int(sys.argv[1]), int(sys.argv[2])
    json_path, ldpb_path = sys.argv[3], sys.argv[4]
    rng = random.Random(int(sys.argv[5]) if len(sys.argv) > 5 else 42)
    start, span = 1_767_225_600_000, 2 * 3600 * 1000
    with open(json_path, "w") as json_out, open(ldpb_path, "wb") as ldpb_out:
        lines, blob = [], bytearray()
        for i in range(events):
            time = start + span * i // events
            store = rng.randrange(stores)
            confirmed = rng.random() < 0.5
            kind = 1 + i % 5
            items = 1 + i % 7
            cents = 500 + i % 9000
            order = f"o-{i:010}"
            lines.append(
                f'{{"_time": {time}, "storeId": "{store}", "orderId": "{order}", "eventType": "{EVENT_TYPES[kind - 1]}", '
                f'"hasStoreOrderConfirmedData": {"true" if confirmed else "false"}, "itemCount": {items}, '
                f'"subtotalCents": "{cents}"}}\n')
            message = bytearray()
            message.append(1 << 3)
            varint(store, message)
            message.append((2 << 3) | 2)
            message.append(len(order))
            message += order.encode()
            message.append(3 << 3)
            message.append(kind)
            message.append(4 << 3)
            message.append(1 if confirmed else 0)
            timestamp = bytearray()
            timestamp.append(1 << 3)
            varint(time // 1000, timestamp)
            if time % 1000:
                timestamp.append(2 << 3)
                varint(time % 1000 * 1_000_000, timestamp)
            message.append((5 << 3) | 2)
            message.append(len(timestamp))
            message += timestamp
            message.append(8 << 3)
            message.append(items)
            message.append(9 << 3)
            varint(cents, message)
            varint(len(message), blob)
            blob += message
            if len(lines) >= 100_000:
                json_out.write("".join(lines))
                ldpb_out.write(blob)
                lines, blob = [], bytearray()
        json_out.write("".join(lines))
        ldpb_out.write(blob)


if __name__ == "__main__":
    main()
