-- q3: local item suggestion: who sells category-10 items in Oregon, Idaho or California
--    (a join of two streams: auctions with the person who sells them)
-- mode: append
SELECT p.name, p.city, p.state, a.id
FROM auction AS a JOIN person AS p ON a.seller = p.id
WHERE a.category = 10 AND (p.state = 'OR' OR p.state = 'ID' OR p.state = 'CA');
