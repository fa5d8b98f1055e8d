SELECT store_id, COUNT(*) AS f_value FROM store_timeline_events WHERE CAST(created_at AS BOOLEAN) GROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id
