SELECT store_id AS st,
       SUM(CAST(has_store_order_confirmed_data AS INT)) AS f_value
FROM store_timeline_events GROUP BY HOP(_time, INTERVAL '20' SECONDS, INTERVAL '20' MINUTES), store_id
