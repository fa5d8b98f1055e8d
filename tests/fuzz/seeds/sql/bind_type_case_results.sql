SELECT store_id, MAX(CASE WHEN item_count > 2 THEN 'big' ELSE 0 END) AS f_value FROM store_timeline_events GROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id
