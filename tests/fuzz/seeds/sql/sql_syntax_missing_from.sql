SELECT store_id, COUNT(*) AS f_value store_timeline_events GROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id
