-- q13: bounded side input join: each bid enriched with a value from a static side table keyed
--    by auction mod 10,000
-- mode: append
-- unsupported: a side-input table in the suite (the runner declares only the three streams;
--    the join of a stream with a table itself runs)
SELECT b.auction, b.bidder, b.price, b.date_time, s.value
FROM bid AS b JOIN side_input AS s ON b.auction % 10000 = s.key;
