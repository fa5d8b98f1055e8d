SELECT store_id, HOP_START(_time, INTERVAL '1' MINUTE, INTERVAL '5' MINUTES) AS ws,
       HOP_END(_time, INTERVAL '1' MINUTE, INTERVAL '5' MINUTES) AS we, COUNT(*) AS f_value
FROM store_timeline_events GROUP BY HOP(_time, INTERVAL '1' MINUTE, INTERVAL '5' MINUTES), store_id
