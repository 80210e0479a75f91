-- q18: last bid: each bidder's latest bid on each auction
-- mode: update
-- unsupported: window functions (row_number() OVER ...) in continuous queries: top-N per key /
--    dedup as a streaming operator
-- needs: dedup / top-N per key (row_number() = 1) over a stream from wm
SELECT auction, bidder, price, channel, url, date_time, extra
FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY bidder, auction ORDER BY date_time DESC) AS rn FROM bid) AS x
WHERE rn <= 1;
