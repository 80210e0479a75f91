-- q0: pass-through: every bid as it arrives (measures the source and sink overhead)
-- mode: append
SELECT auction, bidder, price, date_time, extra FROM bid;
