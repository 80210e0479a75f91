-- q19: auction top-10 prices: the ten highest bids of each auction (equal prices ordered by
--    time, bidder and url, so that the numbering is deterministic and a batch run can check it)
-- mode: update
SELECT auction, bidder, price, channel, url, date_time, extra, rn
FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC, date_time, bidder, url) AS rn FROM bid) AS x
WHERE rn <= 10;
