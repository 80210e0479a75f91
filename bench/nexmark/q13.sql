-- q13: bounded side input join: each bid enriched with a value from a static side table keyed
--    by auction mod 10,000 (a join of a stream with a table)
-- mode: append
-- setup: CREATE TABLE side_input (key BIGINT, value VARCHAR);
--    INSERT INTO side_input SELECT g, 'value-' || CAST(g AS VARCHAR) FROM generate_series(0, 9999) AS t(g)
SELECT b.auction, b.bidder, b.price, b.date_time, s.value
FROM bid AS b JOIN side_input AS s ON b.auction % 10000 = s.key;
