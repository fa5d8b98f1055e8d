SELECT store_id, COUNT(*) AS f_value, COUNT(*) + 1 AS plus_one FROM store_timeline_events GROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id HAVING COUNT(*) > 0
