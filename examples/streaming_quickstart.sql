-- A continuous query over generated events: per-key counts in 10-second event-time windows.
-- trigger = 'available_now' processes what the source offers (here: 300,000 rows) and stops.
CREATE SOURCE clicks (ts TIMESTAMP, page VARCHAR, ms BIGINT,
  WATERMARK FOR ts AS ts - INTERVAL '5 seconds')
WITH (connector = 'datagen', rows_per_second = 'unbounded', number_of_rows = '300000',
      max_rows_per_trigger = '100000', seed = '7',
      fields.page.values = 'home,search,cart', fields.ms.min = '1', fields.ms.max = '500');

-- A materialized view always holds the complete, current result; query it with plain SQL.
CREATE MATERIALIZED VIEW page_stats WITH (trigger = 'available_now') AS
  SELECT page, COUNT(*) AS views, AVG(ms) AS avg_ms FROM clicks GROUP BY page;

SELECT page, views, round(avg_ms, 1) AS avg_ms FROM page_stats ORDER BY page;

-- Windows close when the watermark passes their end; append mode emits each one once.
CREATE SINK per_window WITH (connector = 'console', output_mode = 'append', trigger = 'available_now') AS
  SELECT window(ts, '10 seconds') AS w, COUNT(*) AS views FROM clicks GROUP BY window(ts, '10 seconds');

SHOW QUERIES;
