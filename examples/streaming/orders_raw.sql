-- The seed lecture's orders.txt as it is written: tab-separated lines
-- "3/22/2016 20:55<TAB>orderId<TAB>clientId<TAB>symbol<TAB>noStocksTraded<TAB>price<TAB>B|S"
-- (its 13 sample lines, then more in the same form), in chunk files read one per micro-batch.
-- The timestamp text is kept as it is (raw) and a computed column parses it; the watermark is
-- declared on the computed column, so hourly windows close as order time advances and append
-- mode prints each hour once, final. Run from the repository root:
--   go run ./cmd/streamsql run -f examples/streaming/orders_raw.sql
CREATE SOURCE orders_raw (raw_time VARCHAR, order_id BIGINT, client_id BIGINT, symbol VARCHAR,
                          qty BIGINT, price BIGINT, side VARCHAR,
                          ts AS to_timestamp(raw_time, 'M/d/yyyy H:mm'),
                          WATERMARK FOR ts AS ts - INTERVAL '5 minutes')
  WITH (connector = 'files', path = 'examples/streaming/orders_raw', format = 'csv', delimiter = '\t',
        max_files_per_trigger = '1');

-- Buys and sells per hour of order time: an hour is printed once the watermark passes its end.
CREATE SINK hourly_sides WITH (connector = 'console', output_mode = 'append', trigger = 'available_now') AS
  SELECT window_start, window_end, side, COUNT(*) AS orders, SUM(qty) AS stocks
  FROM orders_raw GROUP BY window(ts, '1 hour'), side;
