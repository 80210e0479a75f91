-- The seed lecture's brokerage orders: lines "time,orderId,clientId,symbol,noStocksTraded,price,B|S"
-- split into chunk files (split -l 20 orders.txt chunk) in orders/. Each chunk is one micro-batch
-- (max_files_per_trigger = '1'); trigger = 'available_now' processes the files present and stops.
-- To stream for real, watch an empty directory instead, drop the trigger option, and mv the chunks
-- in one by one (a file must appear by an atomic rename). Run from the repository root:
--   go run ./cmd/streamsql run -f examples/streaming/orders.sql
CREATE SOURCE orders (ts TIMESTAMP, order_id BIGINT, client_id BIGINT, symbol VARCHAR, qty BIGINT,
                      price DECIMAL(10,2), side VARCHAR)
  WITH (connector = 'files', path = 'examples/streaming/orders', format = 'csv', max_files_per_trigger = '1');

-- Running totals of buys and sells: in update mode each batch prints the sides whose count
-- changed. (The per-batch counts of the lecture are a stateless `SELECT side FROM orders` in
-- append mode, counted per printed batch; see streamtest/spark_examples_test.go.)
CREATE SINK sides WITH (connector = 'console', output_mode = 'update', trigger = 'available_now') AS
  SELECT side, COUNT(*) AS orders FROM orders GROUP BY side;

-- The running top 5 clients by amount (NoStocksTraded * Price).
CREATE SINK top_clients WITH (connector = 'console', output_mode = 'complete', trigger = 'available_now') AS
  SELECT client_id, SUM(qty * price) AS amount FROM orders
  GROUP BY client_id ORDER BY amount DESC, client_id LIMIT 5;

-- The 5 most traded stocks of the latest hour of order time.
CREATE SINK top_stocks WITH (connector = 'console', output_mode = 'complete', trigger = 'available_now') AS
  SELECT window_start, window_end, symbol, SUM(qty) AS traded FROM orders
  GROUP BY window(ts, '1 hour'), symbol ORDER BY window_start DESC, traded DESC, symbol LIMIT 5;
