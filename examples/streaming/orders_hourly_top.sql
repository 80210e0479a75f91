-- The seed lecture's "top 5 stocks per hour", for every hour, in append mode: a window top-N
-- over a windowed aggregation, read from the lecture's orders.txt lines as written (tab-separated,
-- "3/22/2016 20:55" timestamps parsed by a computed column that carries the watermark). Each hour's ranking is printed once, when the watermark (latest
-- order time - 5 minutes) closes the hour; the last hour stays open when the input ends (as in
-- Spark). Run from the repository root:
--   go run ./cmd/streamsql run -f examples/streaming/orders_hourly_top.sql
CREATE SOURCE orders (raw_time VARCHAR, order_id BIGINT, client_id BIGINT, symbol VARCHAR, qty BIGINT,
                      price BIGINT, side VARCHAR,
                      ts AS to_timestamp(raw_time, 'M/d/yyyy H:mm'),
                      WATERMARK FOR ts AS ts - INTERVAL '5 minutes')
  WITH (connector = 'files', path = 'examples/streaming/orders_raw', format = 'csv', delimiter = '\t',
        max_files_per_trigger = '1');

CREATE SINK hourly_top5 WITH (connector = 'console', output_mode = 'append', trigger = 'available_now') AS
  SELECT window_start, window_end, symbol, traded, rn FROM (
    SELECT window_start, window_end, symbol, traded,
           ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY traded DESC, symbol) AS rn
    FROM (SELECT window_start, window_end, symbol, SUM(qty) AS traded FROM orders
          GROUP BY window(ts, '1 hour'), symbol) t) u
  WHERE rn <= 5;
