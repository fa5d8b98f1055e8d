SELECT store_id,
       SUM(CASE WHEN event_type = 'ORDER_CANCELLED' THEN 1 ELSE 0 END) AS cancelled,
       MAX(COALESCE(promo_code, 'none')) AS f_value,
       SUM(CAST(subtotal_cents AS DOUBLE) / 100) AS revenue
FROM store_timeline_events GROUP BY TUMBLE(_time, INTERVAL '1' HOUR), store_id
