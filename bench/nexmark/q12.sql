-- q12: bids per bidder per 10-second window; the reference windows by processing time, ours by
--    event time so that the result is deterministic and checkable against the batch query
-- mode: complete
-- needs: PROCTIME() from evt for the reference's processing-time form
SELECT bidder, COUNT(*) AS bid_count, window(date_time, '10 seconds') AS w
FROM bid GROUP BY bidder, window(date_time, '10 seconds');
