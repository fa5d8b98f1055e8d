SELECT consumer_id, COUNT(DISTINCT store_id) AS f_value,
       SESSION_START(event_time_ms, INTERVAL '10' MINUTES) AS s_start,
       SESSION_END(event_time_ms, INTERVAL '10' MINUTES) AS s_end
FROM store_timeline_events WHERE consumer_id <> 0 GROUP BY SESSION(event_time_ms, INTERVAL '10' MINUTES), consumer_id
