-- The seed lecture's illustration: hourly counts of (phone_id, time, action) events from a
-- mobile app, in update mode. Each file of phone_events/ is one trigger (max_files_per_trigger);
-- the third brings phone3's "open" of 1:58, which arrives after 2:00 and still updates the 1:00
-- row. Run from the repository root:
--   go run ./cmd/streamsql run -f examples/streaming/phone_events.sql
CREATE SOURCE events (phone_id VARCHAR, time TIMESTAMP, action VARCHAR)
  WITH (connector = 'files', path = 'examples/streaming/phone_events', format = 'json', max_files_per_trigger = '1');

CREATE SINK hourly WITH (connector = 'console', output_mode = 'update', trigger = 'available_now') AS
  SELECT window_start, window_end, action, COUNT(*) AS count
  FROM events
  GROUP BY action, window(time, '1 hour');
