SELECT store_id,
       TUMBLE_END(created_at, INTERVAL '5' MINUTES) AS window_end,
       AVG(delivery_wait_seconds) AS avg_delivery_wait_5m,
       MAX(delivery_wait_seconds) AS max_delivery_wait_5m,
       COUNT(*) AS delivered_orders_5m
FROM store_timeline_events
WHERE event_type = 'ORDER_DELIVERED' AND delivery_wait_seconds IS NOT NULL
GROUP BY TUMBLE(created_at, INTERVAL '5' MINUTES), store_id
HAVING COUNT(*) >= 1

