SELECT store_id, SUM(has_store_order_confirmed_data) AS f_value FROM store_timeline_events GROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id
