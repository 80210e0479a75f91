-- q7: highest bid: the bids that carry the highest price of their 10-second tumbling window
-- mode: update
-- needs: window join from wm, for the reference's append output (each window's top bids once, when it closes)
SELECT b.auction, b.price, b.bidder, b.date_time, b.extra
FROM bid AS b
JOIN (SELECT MAX(price) AS maxprice, window(date_time, '10 seconds') AS w
      FROM bid GROUP BY window(date_time, '10 seconds')) AS m
  ON b.price = m.maxprice
WHERE b.date_time >= m.window_start AND b.date_time < m.window_end;
