SELECT store_id, COUNT(*) AS f_value FROM store_timeline_events GROUP BY SESSION(_time, INTERVAL '90' SECONDS), store_id
