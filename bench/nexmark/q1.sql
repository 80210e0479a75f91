-- q1: currency conversion: each bid's price from dollars to euros (rate 0.908; prices are
--    whole cents, so the conversion is integer arithmetic)
-- mode: append
SELECT auction, bidder, price * 908 / 1000 AS price, date_time, extra FROM bid;
