-- q22: url directories: the first three path segments of each bid's url (the reference's
--    split_index(url, '/', 3..5); written with regexp_extract, which gives NULL past the end)
-- mode: append
SELECT auction, bidder, price, channel,
       regexp_extract(url, '^(?:[^/]*/){3}([^/]*)', 1) AS dir1,
       regexp_extract(url, '^(?:[^/]*/){4}([^/]*)', 1) AS dir2,
       regexp_extract(url, '^(?:[^/]*/){5}([^/]*)', 1) AS dir3
FROM bid;
