SELECT store_id, COUNT(*) AS f_value FROM store_timeline_events GROUP BY TUMBLE(_time, INTERVAL '999999999999' DAYS), store_id
