-- The lecture's stream-static join: orders arriving as files, joined with a customers table.
-- Run from the repository root: go run ./cmd/streamsql run -f examples/streaming/customers_join.sql
CREATE TABLE customers (customer_id BIGINT, name VARCHAR, country VARCHAR);
INSERT INTO customers VALUES (1, 'alice', 'FR'), (2, 'bob', 'US');

CREATE SOURCE orders (customer_id BIGINT, amount BIGINT)
WITH (connector = 'files', path = 'examples/streaming/customers_join', format = 'json', max_files_per_trigger = '1');

-- Orders of unknown customers (customer 3) drop out of the inner join, as in the batch query.
CREATE MATERIALIZED VIEW by_country WITH (trigger = 'available_now') AS
  SELECT country, COUNT(*) AS orders, SUM(amount) AS total
  FROM orders JOIN customers USING (customer_id) GROUP BY country;

SELECT * FROM by_country ORDER BY country;
