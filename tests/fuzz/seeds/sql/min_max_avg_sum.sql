SELECT store_id, MIN(item_count) AS min_items, MAX(item_count) AS max_items,
       AVG(item_count) AS avg_items, SUM(subtotal_cents) AS f_value
FROM store_timeline_events GROUP BY TUMBLE(_time, INTERVAL '15' MINUTES), store_id
