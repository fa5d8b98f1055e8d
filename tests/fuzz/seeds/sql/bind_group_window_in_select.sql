SELECT store_id, HOP(_time, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE) AS w, COUNT(*) AS f_value FROM store_timeline_events GROUP BY HOP(_time, INTERVAL '1' MINUTE, INTERVAL '5' MINUTE), store_id
