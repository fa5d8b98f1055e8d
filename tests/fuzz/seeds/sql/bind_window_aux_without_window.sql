SELECT store_id, TUMBLE_START(_time, INTERVAL '1' MINUTE) AS f_value FROM store_timeline_events
