SELECT * FROM store_timeline_events WHERE store_id IN (101, 102)
