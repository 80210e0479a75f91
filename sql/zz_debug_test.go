package sql_test

import ("testing";"strings")

func TestZZDebug(t *testing.T) {
	eng := newEngine(t, "CREATE TABLE a (x BIGINT, z BIGINT); CREATE TABLE b (y BIGINT, w VARCHAR); CREATE TABLE c (k BIGINT);")
	for _, s := range []string{
		"EXPLAIN SELECT * FROM a, b WHERE a.x = b.y AND a.z > 1",
		"EXPLAIN SELECT * FROM a LEFT JOIN b ON a.x = b.y WHERE b.w = 'q'",
		"EXPLAIN SELECT * FROM a LEFT JOIN b ON a.x = b.y AND b.w = 'q' AND a.z > 1",
		"EXPLAIN SELECT * FROM a RIGHT JOIN b ON a.x = b.y AND a.z > 1 WHERE a.z < 5",
		"EXPLAIN SELECT * FROM a, b, c WHERE a.x = b.y AND b.y = c.k AND c.k > 2 AND a.z + b.y > 3",
		"EXPLAIN SELECT x FROM (SELECT x, z FROM a WHERE z > 1) s WHERE s.x > 2",
		"EXPLAIN SELECT * FROM a JOIN b ON a.x = b.y WHERE a.z > 1 OR b.w = 'q'",
		"EXPLAIN SELECT * FROM a LEFT JOIN b ON a.x = b.y WHERE b.w IS NULL",
		"EXPLAIN SELECT * FROM a LEFT JOIN b ON true WHERE a.z = 1",
		"EXPLAIN SELECT * FROM a WHERE x IN (SELECT y FROM b WHERE w = 'q') AND z > 1",
	} {
		r := rows(t, eng, s)
		t.Logf("%s\n%s\n", s, strings.Join(r, "\n"))
	}
}
