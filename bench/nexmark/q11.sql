-- q11: user sessions: bids per bidder per session (a session lasts while the bidder's bids are
--    less than 10 seconds apart)
-- mode: complete
SELECT bidder, COUNT(*) AS bid_count, session_window(date_time, '10 seconds') AS s
FROM bid GROUP BY bidder, session_window(date_time, '10 seconds');
