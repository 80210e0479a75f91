-- q8: monitor new users: people who created an auction in the 10-second tumbling window in
--    which they registered
-- mode: update
SELECT p.id, p.name, p.window_start
FROM (SELECT id, name, window(date_time, '10 seconds') AS w FROM person
      GROUP BY id, name, window(date_time, '10 seconds')) AS p
JOIN (SELECT seller, window(date_time, '10 seconds') AS w FROM auction
      GROUP BY seller, window(date_time, '10 seconds')) AS a
  ON p.id = a.seller AND p.window_start = a.window_start AND p.window_end = a.window_end;
