-- q5: hot items: per 10-second window sliding every 2 seconds, the auctions with the most bids
--    (a windowed count, the maximum of those counts per window, and a join of the two)
-- mode: complete
SELECT c.auction, c.num
FROM (SELECT auction, COUNT(*) AS num, window(date_time, '10 seconds', '2 seconds') AS w
      FROM bid GROUP BY auction, window(date_time, '10 seconds', '2 seconds')) AS c
JOIN (SELECT MAX(num) AS maxn, window_start, window_end
      FROM (SELECT auction, COUNT(*) AS num, window(date_time, '10 seconds', '2 seconds') AS w
            FROM bid GROUP BY auction, window(date_time, '10 seconds', '2 seconds')) AS cc
      GROUP BY window_start, window_end) AS m
  ON c.window_start = m.window_start AND c.window_end = m.window_end AND c.num >= m.maxn;
