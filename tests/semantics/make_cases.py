#!/usr/bin/env python3
"""Writes the semantic test cases (spec.yaml + input.jsonl) under cases/. Expected rows are blessed from pipec and
then verified by hand; each case's comment says what the expected output must show."""
import json, os

BASE = 1767225600000  # 2026-01-01T00:00:00.000Z

def iso(ms):
    import datetime
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")

SPEC = """# {comment}
sources:
  - name: {name}
    type: REALTIME
    compute_spec:
      type: RIVIERA
      riviera_spec:
        kafka_sources:
          - cluster: default
            topic: store_timeline_events
            proto_class: "com.doordash.timeline_events.StoreTimelineEvent"{extra}
        sql: >-
{sql}
"""

def event(t, **fields):
    """t: seconds after BASE (envelope time). Field names in the proto JSON mapping."""
    e = {"_time": iso(BASE + int(round(t * 1000)))}
    for k, v in fields.items():
        e[k] = str(v) if isinstance(v, int) and not isinstance(v, bool) and k in ("storeId", "consumerId", "subtotalCents", "eventTimeMs") else v
    return e

cases = {}
def case(name, comment, sql, events, extra=""):
    cases[name] = (comment, sql, events, extra)

S = "store_id"
# --- TUMBLE ---
case("tumble_count_basic", "3 rows in [0,60s) for store 1, 1 row in [60,120s): two windows",
     "SELECT store_id, COUNT(*) AS n, TUMBLE_START(_time, INTERVAL '1' MINUTE) AS ws, TUMBLE_END(_time, INTERVAL '1' MINUTE) AS we\nFROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id",
     [event(1, storeId=1), event(10, storeId=1), event(59.999, storeId=1), event(60, storeId=1)])
case("tumble_multiple_keys", "two stores interleaved; rows per window in key arrival order",
     "SELECT store_id, COUNT(*) AS n, SUM(item_count) AS items\nFROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '10' SECONDS), store_id",
     [event(1, storeId=2, itemCount=1), event(2, storeId=1, itemCount=2), event(3, storeId=2, itemCount=3), event(12, storeId=1, itemCount=4), event(25, storeId=2, itemCount=5)])
case("tumble_sum_bool_cast", "the seed aggregation SUM(CAST(bool AS INT)) on tumbling windows",
     "SELECT store_id AS st, SUM(CAST(has_store_order_confirmed_data AS INT)) AS confirmed\nFROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '30' SECONDS), store_id",
     [event(1, storeId=7, hasStoreOrderConfirmedData=True), event(2, storeId=7, hasStoreOrderConfirmedData=False), event(3, storeId=7, hasStoreOrderConfirmedData=True), event(31, storeId=7)])
case("tumble_avg_int_truncates", "AVG over INT truncates toward zero: (1+2+2)/3 = 1",
     "SELECT store_id, AVG(item_count) AS avg_items\nFROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id",
     [event(1, storeId=1, itemCount=1), event(2, storeId=1, itemCount=2), event(3, storeId=1, itemCount=2)])
case("tumble_avg_double", "AVG over DOUBLE: (1.5 + 2.5) / 2 = 2; NULLs ignored",
     "SELECT store_id, AVG(delivery_wait_seconds) AS w\nFROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id",
     [event(1, storeId=1, deliveryWaitSeconds=1.5), event(2, storeId=1), event(3, storeId=1, deliveryWaitSeconds=2.5)])
case("tumble_min_max", "MIN/MAX over BIGINT and VARCHAR",
     "SELECT store_id, MIN(subtotal_cents) AS lo, MAX(subtotal_cents) AS hi, MIN(order_id) AS first_order, MAX(order_id) AS last_order\nFROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id",
     [event(1, storeId=1, subtotalCents=500, orderId="b"), event(2, storeId=1, subtotalCents=100, orderId="c"), event(3, storeId=1, subtotalCents=900, orderId="a")])
case("tumble_count_column_nulls", "COUNT(x) counts non-NULL values, COUNT(*) rows",
     "SELECT store_id, COUNT(*) AS all_rows, COUNT(delivery_wait_seconds) AS with_wait, COUNT(promo_code) AS with_promo\nFROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id",
     [event(1, storeId=1, deliveryWaitSeconds=3.0), event(2, storeId=1, promoCode="X"), event(3, storeId=1)])
case("tumble_sum_all_null", "SUM/MIN/AVG over only NULLs are NULL; COUNT is 0",
     "SELECT store_id, SUM(delivery_wait_seconds) AS s, MIN(delivery_wait_seconds) AS lo, AVG(delivery_wait_seconds) AS a, COUNT(delivery_wait_seconds) AS c\nFROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id",
     [event(1, storeId=1), event(2, storeId=1)])
case("tumble_count_distinct", "COUNT(DISTINCT) of store ids per consumer",
     "SELECT consumer_id, COUNT(DISTINCT store_id) AS stores, COUNT(*) AS n\nFROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), consumer_id",
     [event(1, consumerId=5, storeId=1), event(2, consumerId=5, storeId=2), event(3, consumerId=5, storeId=1), event(4, consumerId=6, storeId=3)])
case("tumble_sum_distinct", "SUM(DISTINCT) and AVG(DISTINCT): values 1,1,2,4 → sum 7, avg 2 (7/3 truncated)",
     "SELECT store_id, SUM(DISTINCT item_count) AS s, AVG(DISTINCT item_count) AS a\nFROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id",
     [event(1, storeId=1, itemCount=1), event(2, storeId=1, itemCount=1), event(3, storeId=1, itemCount=2), event(4, storeId=1, itemCount=4)])
case("tumble_where_filter", "WHERE keeps only delivered orders",
     "SELECT store_id, COUNT(*) AS delivered\nFROM store_timeline_events\nWHERE event_type = 'ORDER_DELIVERED'\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id",
     [event(1, storeId=1, eventType="ORDER_DELIVERED"), event(2, storeId=1, eventType="ORDER_CREATED"), event(3, storeId=2, eventType="ORDER_CREATED"), event(4, storeId=1, eventType="ORDER_DELIVERED")])
case("tumble_having", "HAVING COUNT(*) >= 2 drops store 2",
     "SELECT store_id, COUNT(*) AS n\nFROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id\nHAVING COUNT(*) >= 2",
     [event(1, storeId=1), event(2, storeId=2), event(3, storeId=1)])
case("tumble_having_on_key", "HAVING on the key (pushed down to a filter) keeps store_id > 1",
     "SELECT store_id, COUNT(*) AS n\nFROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id\nHAVING store_id > 1 AND COUNT(*) > 0",
     [event(1, storeId=1), event(2, storeId=2), event(3, storeId=3)])
case("tumble_case_when", "CASE counts cancellations",
     "SELECT store_id, SUM(CASE WHEN event_type = 'ORDER_CANCELLED' THEN 1 ELSE 0 END) AS cancelled, COUNT(*) AS n\nFROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id",
     [event(1, storeId=1, eventType="ORDER_CANCELLED"), event(2, storeId=1, eventType="ORDER_CREATED"), event(3, storeId=1, eventType="ORDER_CANCELLED")])
case("tumble_coalesce", "COALESCE(promo_code, 'none') then MAX over strings",
     "SELECT store_id, MAX(COALESCE(promo_code, 'none')) AS promo, MIN(COALESCE(promo_code, 'none')) AS lowest\nFROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id",
     [event(1, storeId=1), event(2, storeId=1, promoCode="FREESHIP")])
case("tumble_cast_double_division", "SUM(CAST(cents AS DOUBLE) / 100) keeps fractions",
     "SELECT store_id, SUM(CAST(subtotal_cents AS DOUBLE) / 100) AS dollars\nFROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id",
     [event(1, storeId=1, subtotalCents=150), event(2, storeId=1, subtotalCents=225)])
case("tumble_integer_division", "integer division truncates: 7/2 = 3, -7/2 = -3",
     "SELECT store_id, SUM(item_count / 2) AS halves, SUM((0 - item_count) / 2) AS negative_halves\nFROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id",
     [event(1, storeId=1, itemCount=7)])
case("tumble_null_key", "a NULL key (absent nested message) forms its own group",
     "SELECT store_location.region AS region, COUNT(*) AS n\nFROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_location.region",
     [event(1, storeLocation={"region": "west"}), event(2), event(3, storeLocation={"region": "west"}), event(4)])
case("tumble_in_between_like", "IN, BETWEEN and LIKE filters",
     "SELECT store_id, COUNT(*) AS n\nFROM store_timeline_events\nWHERE store_id IN (1, 2) AND item_count BETWEEN 2 AND 4 AND order_id LIKE 'o-%'\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id",
     [event(1, storeId=1, itemCount=2, orderId="o-1"), event(2, storeId=1, itemCount=5, orderId="o-2"), event(3, storeId=3, itemCount=3, orderId="o-3"), event(4, storeId=2, itemCount=4, orderId="x-4"), event(5, storeId=2, itemCount=4, orderId="o-5")])
case("tumble_null_comparison", "a comparison with NULL is unknown: WHERE keeps neither side",
     "SELECT store_id, COUNT(*) AS n\nFROM store_timeline_events\nWHERE delivery_wait_seconds > 10 OR delivery_wait_seconds <= 10\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id",
     [event(1, storeId=1, deliveryWaitSeconds=5.0), event(2, storeId=1), event(3, storeId=1, deliveryWaitSeconds=50.0)])
case("tumble_expression_key", "grouping by an expression MOD(store_id, 2)",
     "SELECT MOD(store_id, 2) AS parity, COUNT(*) AS n\nFROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), MOD(store_id, 2)",
     [event(1, storeId=1), event(2, storeId=2), event(3, storeId=3), event(4, storeId=4), event(5, storeId=5)])
case("tumble_negative_time", "times before the epoch floor to earlier windows",
     "SELECT store_id, COUNT(*) AS n, TUMBLE_START(_time, INTERVAL '1' MINUTE) AS ws\nFROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id",
     [{"_time": -90000, "storeId": "1"}, {"_time": -1, "storeId": "1"}, {"_time": 0, "storeId": "1"}])
# --- watermarks and lateness ---
case("late_rows_dropped", "delay 0: a row behind the watermark whose window fired is dropped (row at 5s after 70s)",
     "SELECT store_id, COUNT(*) AS n, TUMBLE_START(_time, INTERVAL '1' MINUTE) AS ws\nFROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id",
     [event(1, storeId=1), event(70, storeId=1), event(5, storeId=1), event(80, storeId=1)])
case("out_of_order_within_delay", "delay 30s: the row at 5s after 70s is on time (watermark 40s < window end)",
     "SELECT store_id, COUNT(*) AS n, TUMBLE_START(_time, INTERVAL '1' MINUTE) AS ws\nFROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id",
     [event(1, storeId=1), event(70, storeId=1), event(5, storeId=1), event(80, storeId=1)], extra="\n            watermark_delay: 30s")
case("watermark_exact_boundary", "delay 0: watermark 59.999s fires [0,60s) (end − 1 ≤ watermark) before the row at 59.998s arrives",
     "SELECT store_id, COUNT(*) AS n\nFROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id",
     [event(10, storeId=1), event(59.999, storeId=1), event(59.998, storeId=1), event(61, storeId=1)])
case("filtered_rows_advance_watermark", "a filtered-out row still advances the watermark and makes the next row late",
     "SELECT store_id, COUNT(*) AS n\nFROM store_timeline_events\nWHERE store_id = 1\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id",
     [event(1, storeId=1), event(100, storeId=2), event(2, storeId=1)])
case("time_field_timestamp", "event time from google.protobuf.Timestamp created_at (envelope time ignored)",
     "SELECT store_id, COUNT(*) AS n, TUMBLE_START(created_at, INTERVAL '1' MINUTE) AS ws\nFROM store_timeline_events\nGROUP BY TUMBLE(created_at, INTERVAL '1' MINUTE), store_id",
     [event(500, storeId=1, createdAt=iso(BASE + 1000)), event(500, storeId=1, createdAt=iso(BASE + 61000))], extra="\n            time_field: created_at")
case("time_field_int64_millis", "event time from an int64 epoch-millis field",
     "SELECT store_id, COUNT(*) AS n, TUMBLE_END(event_time_ms, INTERVAL '1' MINUTE) AS we\nFROM store_timeline_events\nGROUP BY TUMBLE(event_time_ms, INTERVAL '1' MINUTE), store_id",
     [event(0, storeId=1, eventTimeMs=BASE + 5000), event(0, storeId=1, eventTimeMs=BASE + 65000), event(0, storeId=1, eventTimeMs=BASE + 66000)], extra="\n            time_field: event_time_ms")
# --- HOP ---
case("hop_basic", "HOP(slide 10s, size 30s): a row at 25s is in windows starting 0, 10, 20",
     "SELECT store_id, COUNT(*) AS n, HOP_START(_time, INTERVAL '10' SECONDS, INTERVAL '30' SECONDS) AS ws\nFROM store_timeline_events\nGROUP BY HOP(_time, INTERVAL '10' SECONDS, INTERVAL '30' SECONDS), store_id",
     [event(25, storeId=1)])
case("hop_sum_overlapping", "HOP sums over overlapping windows",
     "SELECT store_id, SUM(item_count) AS items, HOP_END(_time, INTERVAL '10' SECONDS, INTERVAL '20' SECONDS) AS we\nFROM store_timeline_events\nGROUP BY HOP(_time, INTERVAL '10' SECONDS, INTERVAL '20' SECONDS), store_id",
     [event(5, storeId=1, itemCount=1), event(15, storeId=1, itemCount=2), event(25, storeId=1, itemCount=4)])
case("hop_size_not_multiple", "HOP slide 20s size 30s (slices of 10s): size need not be a multiple of slide",
     "SELECT store_id, COUNT(*) AS n, HOP_START(_time, INTERVAL '20' SECONDS, INTERVAL '30' SECONDS) AS ws\nFROM store_timeline_events\nGROUP BY HOP(_time, INTERVAL '20' SECONDS, INTERVAL '30' SECONDS), store_id",
     [event(5, storeId=1), event(25, storeId=1), event(45, storeId=1)])
case("hop_size_smaller_than_slide", "HOP slide 30s size 10s: rows in [10s,30s) fall in no window",
     "SELECT store_id, COUNT(*) AS n, HOP_START(_time, INTERVAL '30' SECONDS, INTERVAL '10' SECONDS) AS ws\nFROM store_timeline_events\nGROUP BY HOP(_time, INTERVAL '30' SECONDS, INTERVAL '10' SECONDS), store_id",
     [event(5, storeId=1), event(15, storeId=1), event(35, storeId=1)])
case("hop_min_max_distinct_expiry", "MIN/MAX and COUNT(DISTINCT) stay correct as slices leave the window",
     "SELECT store_id, MIN(item_count) AS lo, MAX(item_count) AS hi, COUNT(DISTINCT order_id) AS orders, HOP_START(_time, INTERVAL '10' SECONDS, INTERVAL '20' SECONDS) AS ws\nFROM store_timeline_events\nGROUP BY HOP(_time, INTERVAL '10' SECONDS, INTERVAL '20' SECONDS), store_id",
     [event(1, storeId=1, itemCount=1, orderId="a"), event(11, storeId=1, itemCount=5, orderId="a"), event(21, storeId=1, itemCount=3, orderId="b")])
case("hop_partially_late", "a row late for its earlier HOP window still counts in its later, open windows",
     "SELECT store_id, COUNT(*) AS n, HOP_START(_time, INTERVAL '10' SECONDS, INTERVAL '20' SECONDS) AS ws\nFROM store_timeline_events\nGROUP BY HOP(_time, INTERVAL '10' SECONDS, INTERVAL '20' SECONDS), store_id",
     [event(1, storeId=1), event(22, storeId=1), event(15, storeId=1)])
case("hop_seed_query", "the seed feature: HOP 20s/20min SUM(CAST(bool AS INT)) per store (first and last windows)",
     "SELECT store_id AS st, SUM(CAST(has_store_order_confirmed_data AS INT)) AS saf_st_p20mi_order_count_sum_canary\nFROM store_timeline_events\nWHERE store_id = 9\nGROUP BY HOP(_time, INTERVAL '20' SECONDS, INTERVAL '20' MINUTES), store_id",
     [event(0, storeId=9, hasStoreOrderConfirmedData=True)])
# --- SESSION ---
case("session_basic", "sessions with a 10s gap: 1,5,14 form one session [1s,24s); 40 another",
     "SELECT consumer_id, COUNT(*) AS n, SESSION_START(_time, INTERVAL '10' SECONDS) AS ss, SESSION_END(_time, INTERVAL '10' SECONDS) AS se\nFROM store_timeline_events\nGROUP BY SESSION(_time, INTERVAL '10' SECONDS), consumer_id",
     [event(1, consumerId=1), event(5, consumerId=1), event(14, consumerId=1), event(40, consumerId=1)])
case("session_touching_merge", "sessions that only touch merge: rows at 0s and 10s with gap 10s → one session [0,20s)",
     "SELECT consumer_id, COUNT(*) AS n, SESSION_START(_time, INTERVAL '10' SECONDS) AS ss, SESSION_END(_time, INTERVAL '10' SECONDS) AS se\nFROM store_timeline_events\nGROUP BY SESSION(_time, INTERVAL '10' SECONDS), consumer_id",
     [event(0, consumerId=1), event(10, consumerId=1)])
case("session_out_of_order_bridge", "delay 20s: an out-of-order row at 10s touches [0,10s) and [20,30s) and merges all three into [0,30s)",
     "SELECT consumer_id, COUNT(*) AS n, SESSION_START(_time, INTERVAL '10' SECONDS) AS ss, SESSION_END(_time, INTERVAL '10' SECONDS) AS se\nFROM store_timeline_events\nGROUP BY SESSION(_time, INTERVAL '10' SECONDS), consumer_id",
     [event(0, consumerId=1), event(20, consumerId=1), event(10, consumerId=1), event(100, consumerId=1)], extra="\n            watermark_delay: 20s")
case("session_gap_not_bridged", "delay 20s: an out-of-order row at 12s merges with [20,30s) but not with [0,10s) (2s apart)",
     "SELECT consumer_id, COUNT(*) AS n, SESSION_START(_time, INTERVAL '10' SECONDS) AS ss, SESSION_END(_time, INTERVAL '10' SECONDS) AS se\nFROM store_timeline_events\nGROUP BY SESSION(_time, INTERVAL '10' SECONDS), consumer_id",
     [event(0, consumerId=1), event(20, consumerId=1), event(12, consumerId=1), event(100, consumerId=1)], extra="\n            watermark_delay: 20s")
case("session_late_row_dropped", "delay 0: a row whose session would end before the watermark is dropped, not reopening the fired session",
     "SELECT consumer_id, COUNT(*) AS n, SESSION_START(_time, INTERVAL '10' SECONDS) AS ss\nFROM store_timeline_events\nGROUP BY SESSION(_time, INTERVAL '10' SECONDS), consumer_id",
     [event(0, consumerId=1), event(30, consumerId=1), event(5, consumerId=1)])
case("session_multiple_keys", "sessions per key fire in order of end time",
     "SELECT consumer_id, COUNT(*) AS n, SESSION_END(_time, INTERVAL '5' SECONDS) AS se\nFROM store_timeline_events\nGROUP BY SESSION(_time, INTERVAL '5' SECONDS), consumer_id",
     [event(0, consumerId=1), event(2, consumerId=2), event(3, consumerId=1), event(20, consumerId=2)])
# --- other ---
case("stateless_projection", "no GROUP BY: each passing row becomes an output row at once",
     "SELECT store_id, order_id, item_count * 2 AS doubled, UPPER(order_id) AS upper_id, _time AS t\nFROM store_timeline_events\nWHERE item_count > 1",
     [event(1, storeId=1, orderId="a", itemCount=1), event(2, storeId=2, orderId="b", itemCount=3)])
case("empty_input", "no events: no rows", "SELECT store_id, COUNT(*) AS n\nFROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id", [])
case("end_of_input_flush", "at end of input every open window fires, including far-future ones",
     "SELECT store_id, COUNT(*) AS n, TUMBLE_START(_time, INTERVAL '1' HOUR) AS ws\nFROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '1' HOUR), store_id",
     [event(1, storeId=1), event(3 * 3600, storeId=2)], extra="\n            watermark_delay: 1d")
case("window_without_key", "a window without a key column: one row per window",
     "SELECT COUNT(*) AS n, TUMBLE_END(_time, INTERVAL '1' MINUTE) AS we\nFROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE)",
     [event(1, storeId=1), event(2, storeId=2), event(61, storeId=3)])
case("enum_and_wrapper_values", "enum values read as names; wrapper StringValue absent is NULL",
     "SELECT event_type, COUNT(*) AS n, MAX(promo_code) AS promo\nFROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), event_type",
     [event(1, eventType="ORDER_CREATED"), event(2, eventType="ORDER_CREATED", promoCode="A"), event(3)])
case("bad_records_skipped", "malformed lines are counted and skipped; the good rows still aggregate",
     "SELECT store_id, COUNT(*) AS n\nFROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id",
     [event(1, storeId=1), "this is not json", {"_time": "yesterday", "storeId": "1"}, {"storeId": "1", "bogusField": 1}, {"storeId": "1"}, event(2, storeId=1)])

# --- scalar functions, intervals and comments (issue 14); expected rows worked out by hand in each comment ---
MAR31 = (31 + 28 + 30) * 86400 + 13 * 3600 + 45 * 60 + 30.25  # 2026-03-31T13:45:30.250Z, a Tuesday
case("fn_round_if_nullif", "ROUND half away from zero on the decimal form (2.25 -> 2.3, -2.25 -> -2.3, 1250 to -2 places -> 1300); "
     "IF takes the else branch for FALSE; NULLIF(order_id, 'x') is NULL for 'x'; a NULL wait rounds to NULL",
     "SELECT store_id, ROUND(delivery_wait_seconds, 1) AS r1, ROUND(subtotal_cents, -2) AS r2,\n"
     "  IF(item_count > 2, 'big', 'small') AS size, NULLIF(order_id, 'x') AS oid\nFROM store_timeline_events",
     [event(1, storeId=1, deliveryWaitSeconds=2.25, subtotalCents=1250, itemCount=3, orderId="x"),
      event(2, storeId=2, deliveryWaitSeconds=-2.25, subtotalCents=-1250, itemCount=1, orderId="a"),
      event(3, storeId=3)])
case("fn_time_parts", "UTC calendar fields of 2026-01-01T00:00:05Z (a Thursday: DOW 5, ISO week 1) and 2026-03-31T13:45:30.250Z "
     "(a Tuesday: DOW 3, day 90, ISO week 14); CEIL to MONTH; Mar 31 + 1 MONTH clamps to Apr 30; whole minutes since "
     "New Year (128985.5 -> 128985); '1 02' DAY TO HOUR adds 26 h",
     "SELECT store_id, EXTRACT(HOUR FROM _time) AS h, EXTRACT(DOW FROM _time) AS dow, DAYOFYEAR(_time) AS doy,\n"
     "  WEEK(_time) AS wk, QUARTER(_time) AS q, FLOOR(_time TO HOUR) AS fh, CEIL(_time TO MONTH) AS cm,\n"
     "  DATE_FORMAT(_time, 'yyyy-MM-dd HH:mm:ss.SSS EEE') AS f, TIMESTAMPADD(MONTH, 1, _time) AS plus_month,\n"
     "  TIMESTAMPDIFF(MINUTE, TIMESTAMP '2026-01-01 00:00:00', _time) AS mins,\n"
     "  _time + INTERVAL '1 02' DAY TO HOUR AS later\nFROM store_timeline_events",
     [event(5, storeId=1), event(MAR31, storeId=2)], extra="\n            watermark_delay: 100d")
case("fn_strings", "characters, not bytes ('xxab-123-é' has 10); TRIM(LEADING 'x' FROM …); SUBSTRING FROM 2 FOR 3 and from -2; "
     "POSITION; SPLIT_INDEX past the end is NULL; REGEXP finds; REGEXP_EXTRACT group 2; a NULL wrapper trims to NULL",
     "SELECT store_id, CHAR_LENGTH(order_id) AS len, /* the leading x's */ TRIM(LEADING 'x' FROM order_id) AS lt,\n"
     "  TRIM(BOTH FROM promo_code) AS bt, SUBSTRING(order_id FROM 2 FOR 3) AS sub, SUBSTRING(order_id, -2) AS tail,\n"
     "  POSITION('-' IN order_id) AS pos, SPLIT_INDEX(order_id, '-', 1) AS part, REGEXP(order_id, '^x+[a-z]') AS rx,\n"
     "  REGEXP_EXTRACT(order_id, '([a-z]+)-([0-9]+)', 2) AS num\nFROM store_timeline_events",
     [event(1, storeId=1, orderId="xxab-123-\u00e9", promoCode="  P1 "), event(2, storeId=2, orderId="ab")])
case("fn_parse_time", "TO_TIMESTAMP with the default and an explicit pattern (NULL when it does not match); UNIX_TIMESTAMP is "
     "1767323045 for 2026-01-02 03:04:05 and Long.MIN_VALUE when unparsable, as in Flink; TO_TIMESTAMP_LTZ of ms and s",
     "SELECT store_id, TO_TIMESTAMP(order_id) AS ts1, TO_TIMESTAMP(order_id, 'yyyy/MM/dd HH:mm') AS ts2,\n"
     "  UNIX_TIMESTAMP(order_id) AS u, TO_TIMESTAMP_LTZ(event_time_ms, 3) AS ltz, TO_TIMESTAMP_LTZ(subtotal_cents, 0) AS ltz0\n"
     "FROM store_timeline_events",
     [event(1, storeId=1, orderId="2026-01-02 03:04:05", eventTimeMs=BASE + 1500, subtotalCents=BASE // 1000),
      event(2, storeId=2, orderId="2026/01/02 03:04", eventTimeMs=0, subtotalCents=0)])
case("interval_minute_to_second", "a 90 s window written '1:30' MINUTE TO SECOND; WHERE drops the row before 00:00:00.5 "
     "(a fractional INTERVAL); the `--` comment in the folded block ends at its line: [0,90s) has 2 rows, [90s,180s) 1",
     "SELECT store_id, COUNT(*) AS n, -- 90-second windows\n"
     "  TUMBLE_START(_time, INTERVAL '1:30' MINUTE TO SECOND) AS ws, TUMBLE_END(_time, INTERVAL '1:30' MINUTE TO SECOND) AS we\n"
     "FROM store_timeline_events\nWHERE _time >= TIMESTAMP '2026-01-01 00:00:00' + INTERVAL '0.5' SECOND -- not before half a second\n"
     "GROUP BY TUMBLE(_time, INTERVAL '1:30' MINUTE TO SECOND), store_id",
     [event(0.2, storeId=1), event(1, storeId=1), event(89.999, storeId=1), event(90, storeId=1)])
case("interval_day_hop", "HOP(12 h slide, 1 DAY size): the 01:00 row is in [-12h,12h) and [0,24h), the 13:00 row in [0,24h) and "
     "[12h,36h): counts 1, 2, 1 in window-end order",
     "SELECT store_id, COUNT(*) AS n, HOP_END(_time, INTERVAL '12' HOUR, INTERVAL '1' DAY) AS we\nFROM store_timeline_events\n"
     "GROUP BY HOP(_time, INTERVAL '12' HOUR, INTERVAL '1' DAY), store_id",
     [event(3600, storeId=1), event(13 * 3600, storeId=1)], extra="\n            watermark_delay: 1d")

case("derived_table_projection", "a derived table projects item_count * 2 and filters item_count > 0 before the window: "
     "[0,60s) keeps the rows of 1 and 3 items (n 2, s 2 + 6 = 8), [60s,120s) the row of 2 (n 1, s 4)",
     "SELECT store_id, COUNT(*) AS n, SUM(items2) AS s\n"
     "FROM (SELECT store_id, item_count * 2 AS items2, _time FROM store_timeline_events WHERE item_count > 0) AS t\n"
     "GROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id",
     [event(1, storeId=1, itemCount=1), event(2, storeId=1, itemCount=0), event(3, storeId=1, itemCount=3), event(61, storeId=1, itemCount=2)])
case("with_filter_projection", "a WITH query renames store_id and _time and keeps confirmed orders; the outer WHERE drops "
     "'skip': orders a and b remain (n 2, last 'b') in [0,60s)",
     "WITH confirmed AS (\n  SELECT store_id AS store, _time AS ts, order_id FROM store_timeline_events\n  WHERE has_store_order_confirmed_data)\n"
     "SELECT store, COUNT(*) AS n, MAX(order_id) AS last_order, TUMBLE_END(ts, INTERVAL '1' MINUTE) AS we\n"
     "FROM confirmed\nWHERE order_id <> 'skip'\nGROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), store",
     [event(1, storeId=5, hasStoreOrderConfirmedData=True, orderId="a"), event(2, storeId=5, orderId="z"),
      event(3, storeId=5, hasStoreOrderConfirmedData=True, orderId="skip"), event(4, storeId=5, hasStoreOrderConfirmedData=True, orderId="b")])

# --- aggregates of issue 14 (expected rows worked out by hand in each comment) ---
case("agg_variance_double_and_int",
     "[0,60s): waits 1, 2, 4 (and a NULL): mean 7/3, M2 = 16/9 + 1/9 + 25/9 = 14/3, so VAR_POP 14/9, VAR_SAMP 7/3, "
     "STDDEV_POP √(14/9) = 1.247…, STDDEV_SAMP √(7/3) = 1.527…; item_count 1, 2, 4, 0 (INT, Flink's integer formula): "
     "Σx = 7, Σx² = 21, n = 4: VAR_POP (21 − 49/4)/4 = (21 − 12)/4 = 2, VAR_SAMP 9/3 = 3, STDDEV_POP ⌊√2⌋ = 1. "
     "[60,120s): one wait 5: VAR_POP 0, VAR_SAMP NULL, STDDEV_SAMP NULL",
     "SELECT store_id, VAR_POP(delivery_wait_seconds) AS vp, VAR_SAMP(delivery_wait_seconds) AS vs, STDDEV_POP(delivery_wait_seconds) AS sp,\n"
     "  STDDEV_SAMP(delivery_wait_seconds) AS ss, VAR_POP(item_count) AS ivp, VAR_SAMP(item_count) AS ivs, STDDEV_POP(item_count) AS isp\n"
     "FROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id",
     [event(1, storeId=1, deliveryWaitSeconds=1.0, itemCount=1), event(2, storeId=1, deliveryWaitSeconds=2.0, itemCount=2),
      event(3, storeId=1, deliveryWaitSeconds=4.0, itemCount=4), event(4, storeId=1), event(61, storeId=1, deliveryWaitSeconds=5.0, itemCount=3)])
case("agg_stddev_hop_merges_slices",
     "HOP slide 10s size 30s: slices [0,10) waits 2, 4; [10,20) wait 4; [20,30) wait 6 and [30,40) wait 8. Window [0,30s): "
     "2, 4, 4, 6: mean 4, squared deviations 4+0+0+4 = 8, VAR_POP 2, STDDEV_SAMP √(8/3) = 1.632…; [10,40s): 4, 6, 8: VAR_POP 8/3, "
     "STDDEV_SAMP 2; [20,50s): 6, 8: VAR_POP 1, STDDEV_SAMP √2; [30,60s): 8: VAR_POP 0, STDDEV_SAMP NULL; windows before 0 "
     "([-20,10s), [-10,20s)) hold 2, 4 (VAR_POP 1, STDDEV_SAMP √2) and 2, 4, 4 (VAR_POP 8/9, STDDEV_SAMP √(4/3))",
     "SELECT store_id, VAR_POP(delivery_wait_seconds) AS vp, STDDEV_SAMP(delivery_wait_seconds) AS ss,\n"
     "  HOP_START(_time, INTERVAL '10' SECOND, INTERVAL '30' SECOND) AS ws\n"
     "FROM store_timeline_events\nGROUP BY HOP(_time, INTERVAL '10' SECOND, INTERVAL '30' SECOND), store_id",
     [event(1, storeId=1, deliveryWaitSeconds=2.0), event(5, storeId=1, deliveryWaitSeconds=4.0), event(12, storeId=1, deliveryWaitSeconds=4.0),
      event(25, storeId=1, deliveryWaitSeconds=6.0), event(33, storeId=1, deliveryWaitSeconds=8.0)])
case("agg_filter",
     "FILTER picks the rows each aggregate sees: [0,60s) store 1 has items 1, 3, 5 (promo on the 3 and the 5) and orders "
     "a, b, b: COUNT(*) 3, COUNT(*) FILTER items > 1 → 2, SUM(items) FILTER promo present → 8, COUNT(DISTINCT order) "
     "FILTER items > 1 → 1 (b), MAX(items) FILTER items < 0 → NULL (no row), AVG(items) 3",
     "SELECT store_id, COUNT(*) AS n, COUNT(*) FILTER (WHERE item_count > 1) AS big, SUM(item_count) FILTER (WHERE promo_code IS NOT NULL) AS promo_items,\n"
     "  COUNT(DISTINCT order_id) FILTER (WHERE item_count > 1) AS big_orders, MAX(item_count) FILTER (WHERE item_count < 0) AS negative,\n"
     "  AVG(item_count) AS avg_items\n"
     "FROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id",
     [event(1, storeId=1, itemCount=1, orderId="a"), event(2, storeId=1, itemCount=3, orderId="b", promoCode="P"),
      event(3, storeId=1, itemCount=5, orderId="b", promoCode="Q")])
case("agg_first_last_listagg_event_time",
     "delay 30s; arrivals at 5s (b), 2s (a), 5s (c), 8s (no promo), 4s (d): ordered by event time, ties by arrival: a(2), "
     "d(4), b(5), c(5). FIRST_VALUE a, LAST_VALUE c, LISTAGG 'a,d,b,c', with ' ' separator 'a d b c'; the promo-less row "
     "is NULL and skipped. FIRST_VALUE(items) FILTER promo present → the 2s row's 20. Flink would use arrival order (b … d)",
     "SELECT store_id, FIRST_VALUE(promo_code) AS first_promo, LAST_VALUE(promo_code) AS last_promo, LISTAGG(promo_code) AS promos,\n"
     "  LISTAGG(promo_code, ' ') AS spaced, FIRST_VALUE(item_count) FILTER (WHERE promo_code IS NOT NULL) AS first_items\n"
     "FROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id",
     [event(5, storeId=1, promoCode="b", itemCount=50), event(2, storeId=1, promoCode="a", itemCount=20), event(5, storeId=1, promoCode="c", itemCount=51),
      event(8, storeId=1, itemCount=80), event(4, storeId=1, promoCode="d", itemCount=40)],
     extra="\n            watermark_delay: 30s")
case("agg_session_first_last_merge",
     "gap 10s: rows at 1s (x) and 20s (y) open two sessions; the row at 11s (z) bridges them into [1s,30s). Event-time "
     "order x, z, y: FIRST_VALUE x, LAST_VALUE y, LISTAGG 'x;z;y' though z arrived last",
     "SELECT consumer_id, FIRST_VALUE(promo_code) AS f, LAST_VALUE(promo_code) AS l, LISTAGG(promo_code, ';') AS all_promos,\n"
     "  SESSION_START(_time, INTERVAL '10' SECOND) AS ss, SESSION_END(_time, INTERVAL '10' SECOND) AS se\n"
     "FROM store_timeline_events\nGROUP BY SESSION(_time, INTERVAL '10' SECOND), consumer_id",
     [event(1, consumerId=1, promoCode="x"), event(20, consumerId=1, promoCode="y"), event(11, consumerId=1, promoCode="z")],
     extra="\n            watermark_delay: 30s")
case("agg_approx_count_distinct",
     "APPROX_COUNT_DISTINCT counts 3 distinct orders (a, b, c) among 5 rows, and 1 in the next window: exact at this size "
     "(linear counting); COUNT(DISTINCT) agrees; a HOP of 2 minutes merges both windows' sketches: 4 distinct (a, b, c, d)",
     "SELECT store_id, APPROX_COUNT_DISTINCT(order_id) AS approx_orders, COUNT(DISTINCT order_id) AS orders\n"
     "FROM store_timeline_events\nGROUP BY HOP(_time, INTERVAL '1' MINUTE, INTERVAL '2' MINUTE), store_id",
     [event(1, storeId=1, orderId="a"), event(2, storeId=1, orderId="b"), event(3, storeId=1, orderId="a"), event(4, storeId=1, orderId="c"),
      event(5, storeId=1, orderId="b"), event(70, storeId=1, orderId="d")])
# --- window features (issue 14): *_ROWTIME and the window table-valued functions; expected rows by hand ---
case("window_rowtime_tumble", "TUMBLE_ROWTIME is the window's end - 1 ms: [0,60s) has 3 rows (rowtime 00:00:59.999), [60s,120s) 1 (00:01:59.999)",
     "SELECT store_id, COUNT(*) AS n, TUMBLE_END(_time, INTERVAL '1' MINUTE) AS we, TUMBLE_ROWTIME(_time, INTERVAL '1' MINUTE) AS rt\n"
     "FROM store_timeline_events\nGROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id",
     [event(1, storeId=1), event(10, storeId=1), event(59.999, storeId=1), event(60, storeId=1)])
case("window_rowtime_hop", "HOP 30s/1min over rows at 10s and 40s: [-30s,30s) n 1 rt 00:00:29.999, [0,60s) n 2 rt 00:00:59.999, "
     "[30s,90s) n 1 rt 00:01:29.999",
     "SELECT store_id, COUNT(*) AS n, HOP_ROWTIME(_time, INTERVAL '30' SECOND, INTERVAL '1' MINUTE) AS rt\n"
     "FROM store_timeline_events\nGROUP BY HOP(_time, INTERVAL '30' SECOND, INTERVAL '1' MINUTE), store_id",
     [event(10, storeId=1), event(40, storeId=1)])
case("window_rowtime_session", "SESSION 10s over rows at 1s, 5s, 30s: [1s,15s) n 2 rt 00:00:14.999, [30s,40s) n 1 rt 00:00:39.999",
     "SELECT store_id, COUNT(*) AS n, SESSION_START(_time, INTERVAL '10' SECOND) AS ws, SESSION_ROWTIME(_time, INTERVAL '10' SECOND) AS rt\n"
     "FROM store_timeline_events\nGROUP BY SESSION(_time, INTERVAL '10' SECOND), store_id",
     [event(1, storeId=1), event(5, storeId=1), event(30, storeId=1)])
case("tvf_tumble", "the TUMBLE TVF computes what GROUP BY TUMBLE does (tumble_count_basic): [0,60s) n 3, [60s,120s) n 1; "
     "window_time = window_end - 1 ms",
     "SELECT window_start, window_end, window_time, store_id, COUNT(*) AS n\n"
     "FROM TABLE(TUMBLE(TABLE store_timeline_events, DESCRIPTOR(_time), INTERVAL '1' MINUTE))\n"
     "GROUP BY window_start, window_end, store_id",
     [event(1, storeId=1), event(10, storeId=1), event(59.999, storeId=1), event(60, storeId=1)])
case("tvf_hop_named_arguments", "HOP TVF 30s/1min, named arguments; HAVING window_end > 00:00:30 drops [-30s,30s) (2 rows): "
     "[0,60s) n 3, [30s,90s) n 2 (59.999 and 60), [60s,120s) n 1",
     "SELECT window_start AS ws, window_end, store_id, COUNT(*) AS n\n"
     "FROM TABLE(HOP(DATA => TABLE store_timeline_events, TIMECOL => DESCRIPTOR(_time), SLIDE => INTERVAL '30' SECOND,\n"
     "               SIZE => INTERVAL '1' MINUTE))\n"
     "GROUP BY window_start, window_end, store_id\nHAVING window_end > TIMESTAMP '2026-01-01 00:00:30'",
     [event(1, storeId=1), event(10, storeId=1), event(59.999, storeId=1), event(60, storeId=1)])
case("tvf_cumulate", "CUMULATE step 10s, max 30s: windows [0,10s) [0,20s) [0,30s), then [30s,40s)...; store 1 (5 at 1s, 7 at 15s, "
     "1 at 29.999s): n 1/2/3, max 5/7/7; store 2 (3 at 12s) from [0,20s): n 1, max 3; store 2 (2 at 31s): [30s,40s) "
     "[30s,50s) [30s,60s) n 1; store 1 (9 at 65s): [60s,70s) [60s,80s) [60s,90s) n 1. Per window end, keys in arrival order",
     "SELECT window_start, window_end, store_id, COUNT(*) AS n, MAX(item_count) AS mx\n"
     "FROM TABLE(CUMULATE(TABLE store_timeline_events, DESCRIPTOR(_time), INTERVAL '10' SECOND, INTERVAL '30' SECOND))\n"
     "GROUP BY window_start, window_end, store_id",
     [event(1, storeId=1, itemCount=5), event(12, storeId=2, itemCount=3), event(15, storeId=1, itemCount=7),
      event(29.999, storeId=1, itemCount=1), event(31, storeId=2, itemCount=2), event(65, storeId=1, itemCount=9)])
case("tvf_cumulate_late_rows", "CUMULATE 10s/30s, no watermark delay. The row at 25s fires [0,10s) and [0,20s) (n 1 each). "
     "The late rows at 5s and 12s (store 2) missed those windows but count in the open [0,30s): store 1 n 3 (1s, 25s, 5s), "
     "store 2 n 1. The row at 31s fires [0,30s); the row at 29s is late for its whole cycle and dropped. Store 1 at 31s: "
     "[30s,40s) [30s,50s) [30s,60s) n 1",
     "SELECT window_start, window_end, store_id, COUNT(*) AS n\n"
     "FROM TABLE(CUMULATE(TABLE store_timeline_events, DESCRIPTOR(_time), INTERVAL '10' SECOND, INTERVAL '30' SECOND))\n"
     "GROUP BY window_start, window_end, store_id",
     [event(1, storeId=1), event(25, storeId=1), event(5, storeId=1), event(12, storeId=2), event(31, storeId=1),
      event(29, storeId=1)], extra="\n            watermark_delay: 0s")
case("tvf_cumulate_over_with", "CUMULATE 10s/30s over a WITH query that renames and filters (item_count > 1 drops the row at "
     "29.999s): store 1 [0,10s) n 1 items 5, [0,20s) and [0,30s) n 2 items 12; store 2 from [0,20s) n 1 items 3, "
     "[30s,...) n 1 items 2; store 1 [60s,...) n 1 items 9",
     "WITH big AS (SELECT store_id AS store, item_count, _time AS ts FROM store_timeline_events WHERE item_count > 1)\n"
     "SELECT store, window_start, window_end, COUNT(*) AS n, SUM(item_count) AS items\n"
     "FROM TABLE(CUMULATE(TABLE big, DESCRIPTOR(ts), INTERVAL '10' SECOND, INTERVAL '30' SECOND))\n"
     "GROUP BY window_start, window_end, store",
     [event(1, storeId=1, itemCount=5), event(12, storeId=2, itemCount=3), event(15, storeId=1, itemCount=7),
      event(29.999, storeId=1, itemCount=1), event(31, storeId=2, itemCount=2), event(65, storeId=1, itemCount=9)])
case("tvf_cumulate_time_field", "CUMULATE 1min/2min on the time_field event_time_ms (envelope times ignored): rows at 5s, 65s, "
     "66s: [0,1min) n 1, [0,2min) n 3 with window_time 00:01:59.999",
     "SELECT window_end, window_time, store_id, COUNT(*) AS n\n"
     "FROM TABLE(CUMULATE(TABLE store_timeline_events, DESCRIPTOR(event_time_ms), INTERVAL '1' MINUTE, INTERVAL '2' MINUTE))\n"
     "GROUP BY window_start, window_end, store_id",
     [event(0, storeId=1, eventTimeMs=BASE + 5000), event(0, storeId=1, eventTimeMs=BASE + 65000), event(0, storeId=1, eventTimeMs=BASE + 66000)],
     extra="\n            time_field: event_time_ms")

for name, (comment, sql, events, extra) in cases.items():
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases", name)
    os.makedirs(folder, exist_ok=True)
    body = "\n".join("          " + line for line in sql.split("\n"))
    with open(os.path.join(folder, "spec.yaml"), "w") as f:
        f.write(SPEC.format(comment=comment, name=name, sql=body, extra=extra))
    with open(os.path.join(folder, "input.jsonl"), "w") as f:
        for e in events:
            f.write((e if isinstance(e, str) else json.dumps(e)) + "\n")
print(len(cases), "cases")
