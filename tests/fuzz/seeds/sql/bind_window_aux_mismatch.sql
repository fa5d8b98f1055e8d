SELECT store_id, COUNT(*) AS f_value, TUMBLE_END(_time, INTERVAL '5' MINUTE) AS window_end FROM store_timeline_events GROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id
