SELECT store_id, COUNT(*) AS f_value FROM store_timeline_events GROUP BY HOP(_time, INTERVAL '0' SECONDS, INTERVAL '5' MINUTES), store_id
