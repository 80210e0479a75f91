-- q18: last bid: each bidder's latest bid on each auction
-- mode: update
SELECT auction, bidder, price, channel, url, date_time, extra
FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY bidder, auction ORDER BY date_time DESC) AS rn FROM bid) AS x
WHERE rn <= 1;
