SELECT store_id, COUNT(*) AS f_value FROM store_timeline_events GROUP BY HOP(_time, INTERVAL '20' MINUTES, INTERVAL '20' SECONDS), store_id
