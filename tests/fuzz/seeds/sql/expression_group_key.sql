SELECT MOD(store_id, 10) AS shard, COUNT(*) AS f_value FROM store_timeline_events GROUP BY TUMBLE(_time, INTERVAL '1' MINUTE), MOD(store_id, 10)
