SELECT consumer_id,
       COUNT(*) AS consumer_session_event_count,
       COUNT(DISTINCT store_id) AS consumer_session_store_count,
       SESSION_START(event_time_ms, INTERVAL '10' MINUTES) AS session_start
FROM store_timeline_events WHERE consumer_id <> 0 GROUP BY SESSION(event_time_ms, INTERVAL '10' MINUTES), consumer_id
