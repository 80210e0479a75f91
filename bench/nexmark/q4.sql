-- q4: average closing price per category: the winning (highest) bid of each auction among the
--    bids placed while it was open, averaged per category
-- mode: complete
-- needs: interval join (bid.date_time between auction.date_time and auction.expires) from wm
SELECT q.category, AVG(q.final) AS avg_final
FROM (SELECT MAX(b.price) AS final, a.category
      FROM auction AS a JOIN bid AS b
        ON a.id = b.auction AND b.date_time BETWEEN a.date_time AND a.expires
      GROUP BY a.id, a.category) AS q
GROUP BY q.category;
