SELECT store_id, order_id, item_count * 2 AS doubled, UPPER(order_id) AS upper_id FROM store_timeline_events WHERE item_count BETWEEN 2 AND 5
