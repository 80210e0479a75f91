-- q19: auction top-10 prices: the ten highest bids of each auction
-- mode: update
-- unsupported: window functions (row_number() OVER ...) in continuous queries: top-N per key /
--    dedup as a streaming operator
-- needs: top-N per key (row_number() <= 10) over a stream from wm/ret
SELECT auction, bidder, price, channel, url, date_time, extra, rn
FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC) AS rn FROM bid) AS x
WHERE rn <= 10;
