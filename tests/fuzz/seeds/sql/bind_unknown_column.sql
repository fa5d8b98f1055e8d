SELECT store_id, SUM(subtotal_cent) AS f_value FROM store_timeline_events GROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id
