SELECT store_id, SUM(CAST(item_count AS INTEGR)) AS f_value FROM store_timeline_events GROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id
