-- q14: calculation: bids between 10,000 and 500,000 euros (in cents after conversion), the time
--    of day they were placed, and how many 'c' characters their extra field holds
-- mode: append
SELECT auction, bidder, price * 908 / 1000 AS price,
       CASE WHEN extract(hour FROM date_time) >= 8 AND extract(hour FROM date_time) <= 18 THEN 'dayTime'
            WHEN extract(hour FROM date_time) <= 6 OR extract(hour FROM date_time) >= 20 THEN 'nightTime'
            ELSE 'otherTime' END AS bid_time_type,
       date_time, extra, length(extra) - length(replace(extra, 'c', '')) AS c_counts
FROM bid
WHERE price * 908 / 1000 > 1000000 AND price * 908 / 1000 < 50000000;
