SELECT store_id, COUNT(store_location) AS f_value FROM store_timeline_events GROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id
