SELECT store_id, COUNT(*) AS f_value FROM store_timeline_events GROUP BY TUMBLE(created_at, INTERVAL '1' MINUTE), store_id
