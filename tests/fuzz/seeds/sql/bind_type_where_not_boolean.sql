SELECT store_id, COUNT(*) AS f_value FROM store_timeline_events WHERE item_count + 1 GROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id
