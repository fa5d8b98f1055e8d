SELECT store_id, COUNT(*) AS f_value FROM store_timeline_events GROUP BY HOP(_time, INTERVAL '10' MINUTES, INTERVAL '1' HOUR), store_id
