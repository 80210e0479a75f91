-- q10: log to file system: every bid with its day and minute, the partition columns the
--    reference writes files by (here into the blackhole)
-- mode: append
SELECT auction, bidder, price, date_time, extra,
       date_format(date_time, 'yyyy-MM-dd') AS dt, date_format(date_time, 'HH:mm') AS hm
FROM bid;
