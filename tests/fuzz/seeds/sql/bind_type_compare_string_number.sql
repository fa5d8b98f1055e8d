SELECT store_id, COUNT(*) AS f_value FROM store_timeline_events WHERE order_id = 42 GROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id
