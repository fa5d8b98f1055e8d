#!/usr/bin/env python3
"""Writes the deterministic sample events in examples/data/ (JSON lines in the Protobuf JSON mapping of
StoreTimelineEvent, with the envelope creation time as `_time`)."""
import json
import random
import sys
from datetime import datetime, timedelta, timezone

def main(path, count=240, seed=7):
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    t = start
    types = ["ORDER_CREATED", "ORDER_CONFIRMED", "ORDER_PICKED_UP", "ORDER_DELIVERED", "ORDER_CANCELLED"]
    with open(path, "w") as out:
        for i in range(count):
            t += timedelta(milliseconds=rng.randint(0, 20000))
            # A little disorder: some events carry a creation time slightly in the past.
            event_time = t - timedelta(milliseconds=rng.choice([0, 0, 0, 0, 1500, 4000]))
            event_type = rng.choice(types)
            event = {
                "_time": event_time.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "storeId": str(rng.choice([101, 102, 103, 104])),
                "orderId": f"o-{i:05d}",
                "eventType": event_type,
                "hasStoreOrderConfirmedData": event_type == "ORDER_CONFIRMED",
                "createdAt": event_time.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "consumerId": str(rng.choice([0, 9001, 9002, 9003, 9004, 9005])),
                "itemCount": rng.randint(1, 6),
                "subtotalCents": str(rng.randint(500, 9000)),
                "eventTimeMs": str(int(event_time.timestamp() * 1000)),
            }
            if event_type == "ORDER_DELIVERED":
                event["deliveryWaitSeconds"] = round(rng.uniform(300, 3000), 1)
            if rng.random() < 0.2:
                event["promoCode"] = rng.choice(["WELCOME", "FREESHIP"])
            out.write(json.dumps(event) + "\n")

if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "examples/data/store_timeline_events.jsonl")
