-- q6: average selling price by seller: per seller, the average of the closing prices of its
--    last 10 closed auctions
-- mode: update
SELECT q.seller,
       AVG(q.final) OVER (PARTITION BY q.seller ORDER BY q.date_time ROWS BETWEEN 9 PRECEDING AND CURRENT ROW) AS avg_final
FROM (SELECT MAX(b.price) AS final, a.seller, MAX(b.date_time) AS date_time
      FROM auction AS a JOIN bid AS b
        ON a.id = b.auction AND b.date_time BETWEEN a.date_time AND a.expires
      GROUP BY a.id, a.seller) AS q;
