SELECT store_id, COUNT(*) AS orders, SUM(item_count) AS items FROM store_timeline_events GROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id
