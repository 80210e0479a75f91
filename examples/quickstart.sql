-- streamsql quickstart: a table, some rows, and the queries you would write anyway.
CREATE TABLE orders (id BIGINT, client VARCHAR, symbol VARCHAR, side VARCHAR, qty BIGINT, price DECIMAL(10,2), ts TIMESTAMP);

INSERT INTO orders VALUES
  (1, 'alice', 'AAPL', 'buy',  10, 187.50, TIMESTAMP '2024-05-01 09:30:00'),
  (2, 'bob',   'MSFT', 'sell',  5, 410.10, TIMESTAMP '2024-05-01 09:45:00'),
  (3, 'alice', 'MSFT', 'buy',   2, 409.90, TIMESTAMP '2024-05-01 10:05:00'),
  (4, 'carol', 'AAPL', 'sell', 20, 188.00, TIMESTAMP '2024-05-01 10:15:00'),
  (5, 'bob',   'AAPL', 'buy',   8, 187.75, TIMESTAMP '2024-05-01 10:40:00');

-- Buys and sells.
SELECT side, COUNT(*) AS orders, SUM(qty) AS shares FROM orders GROUP BY side ORDER BY side;

-- Top clients by traded amount.
SELECT client, SUM(qty * price) AS amount FROM orders GROUP BY client ORDER BY amount DESC LIMIT 5;

-- Shares per stock per hour.
SELECT symbol, date_trunc('hour', ts) AS hour, SUM(qty) AS shares
FROM orders GROUP BY 1, 2 ORDER BY hour, symbol;

-- A join with a second table: orders and shares per client country.
CREATE TABLE clients (name VARCHAR, country VARCHAR);
INSERT INTO clients VALUES ('alice', 'UK'), ('bob', 'US'), ('carol', 'FR');
SELECT c.country, COUNT(*) AS orders, SUM(o.qty) AS shares
FROM orders o JOIN clients c ON o.client = c.name
GROUP BY c.country
ORDER BY shares DESC;
