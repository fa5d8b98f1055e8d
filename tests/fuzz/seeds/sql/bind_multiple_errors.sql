SELECT store_idd, SUM(order_id) AS f_value, FOO(1) AS x FROM store_timeline_events WHERE item_count = 'three' GROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id
