SELECT store_id, COUNT(*) AS f_value FROM store_timeline_events GROUP BY HOP(_time, INTERVAL '1' MILLISECOND, INTERVAL '1' DAY), store_id
