SELECT store_id, COUNT(*) AS f_value FROM store_timeline_events WHERE created_at > TIMESTAMP '2026-13-01 00:00:00' GROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id
