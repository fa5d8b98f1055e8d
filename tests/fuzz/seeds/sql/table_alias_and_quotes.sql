SELECT e.`store_id` AS "store", COUNT(*) AS f_value FROM store_timeline_events AS e GROUP BY TUMBLE(e._time, INTERVAL '1' MINUTE), e.store_id
