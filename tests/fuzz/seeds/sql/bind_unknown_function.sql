SELECT store_id, COUNT(*) AS f_value, AVERAGE(item_count) AS avg_items FROM store_timeline_events GROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id
