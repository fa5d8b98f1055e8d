SELECT store_id, COUNT(*) AS f_value FROM store_timeline_events WHERE event_type = 'ORDER_DELIVRED' AND store_id = 'x' GROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), store_id
