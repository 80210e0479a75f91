-- Queries over two streams that keep themselves up to date with retractions: a FULL OUTER JOIN
-- of orders and payments (an unpaid order's NULL-padded row is retracted when its payment
-- arrives), an aggregation over an aggregation, and a top-N.
-- Run from the repository root: go run ./cmd/streamsql run -f examples/streaming/two_streams.sql
CREATE SOURCE orders (order_id BIGINT, customer VARCHAR, amount BIGINT)
WITH (connector = 'files', path = 'examples/streaming/two_streams/orders', format = 'json', max_files_per_trigger = '1');
CREATE SOURCE payments (order_id BIGINT, paid BIGINT)
WITH (connector = 'files', path = 'examples/streaming/two_streams/payments', format = 'json', max_files_per_trigger = '1');

-- What each order was paid, unpaid orders and payments of unknown orders included.
CREATE MATERIALIZED VIEW balance WITH (trigger = 'available_now') AS
  SELECT o.order_id AS order_id, p.order_id AS payment_for, o.amount, SUM(p.paid) AS paid
  FROM orders o FULL OUTER JOIN payments p ON o.order_id = p.order_id
  GROUP BY o.order_id, p.order_id, o.amount;

-- How many customers placed 1, 2, ... orders.
CREATE MATERIALIZED VIEW order_counts WITH (trigger = 'available_now') AS
  SELECT n AS orders, COUNT(*) AS customers FROM (SELECT customer, COUNT(*) AS n FROM orders GROUP BY customer) t GROUP BY n;

-- The two biggest spenders.
CREATE MATERIALIZED VIEW top_customers WITH (trigger = 'available_now') AS
  SELECT customer, SUM(amount) AS total FROM orders GROUP BY customer ORDER BY total DESC LIMIT 2;

SELECT * FROM balance ORDER BY order_id NULLS LAST, payment_for;
SELECT * FROM order_counts ORDER BY orders;
SELECT * FROM top_customers ORDER BY total DESC;
