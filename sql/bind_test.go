package sql_test

import (
	"context"
	"strings"
	"testing"
)

// bindFixture: small tables whose results are easy to compute by hand.
const bindFixture = `
CREATE TABLE emp (id BIGINT, name VARCHAR, dept VARCHAR, salary BIGINT);
INSERT INTO emp VALUES (1, 'ann', 'eng', 100), (2, 'bob', 'eng', 80), (3, 'cid', 'ops', 50),
                       (4, 'dee', NULL, 70);
CREATE TABLE dept (dept VARCHAR, floor BIGINT);
INSERT INTO dept VALUES ('eng', 3), ('ops', 1), ('hr', 2);
`

// TestBindSemantics checks name resolution, grouping, ordering and typing rules of the binder on
// hand-computed results (PostgreSQL gives the same rows for every query here).
func TestBindSemantics(t *testing.T) {
	eng := newEngine(t, bindFixture)
	cases := []struct {
		q    string
		want []string
	}{
		// GROUP BY by expression, by output alias and by ordinal; HAVING; ORDER BY an aggregate
		{`SELECT dept, count(*), sum(salary) FROM emp GROUP BY dept ORDER BY dept`, []string{"eng|2|180", "ops|1|50", "NULL|1|70"}},
		{`SELECT upper(dept) AS d, max(salary) FROM emp GROUP BY d ORDER BY 1 DESC`, []string{"NULL|70", "OPS|50", "ENG|100"}},
		{`SELECT dept, min(name) FROM emp GROUP BY 1 HAVING count(*) > 1`, []string{"eng|ann"}},
		{`SELECT dept FROM emp GROUP BY dept ORDER BY sum(salary) DESC`, []string{"eng", "NULL", "ops"}},
		{`SELECT salary / 10 AS k, count(*) FROM emp GROUP BY salary / 10 ORDER BY k`, []string{"5|1", "7|1", "8|1", "10|1"}},
		{`SELECT count(*), count(dept), count(DISTINCT dept) FROM emp`, []string{"4|3|2"}},
		{`SELECT sum(salary) FROM emp WHERE id > 100`, []string{"NULL"}},
		{`SELECT count(*) FROM emp WHERE id > 100`, []string{"0"}},
		{`SELECT 1 FROM emp HAVING count(*) = 4`, []string{"1"}},
		// ORDER BY a column not in the select list, by output name, by position
		{`SELECT name FROM emp ORDER BY salary`, []string{"cid", "dee", "bob", "ann"}},
		{`SELECT name AS n FROM emp ORDER BY n DESC LIMIT 2`, []string{"dee", "cid"}},
		{`SELECT name, salary FROM emp ORDER BY 2 DESC, 1 LIMIT 1`, []string{"ann|100"}},
		{`SELECT DISTINCT dept FROM emp ORDER BY dept`, []string{"eng", "ops", "NULL"}},
		// joins, qualified names, aliases, USING, CTEs and derived tables
		{`SELECT e.name, d.floor FROM emp e JOIN dept d ON e.dept = d.dept ORDER BY e.id`, []string{"ann|3", "bob|3", "cid|1"}},
		{`SELECT e.name, d.floor FROM emp e LEFT JOIN dept d ON e.dept = d.dept ORDER BY e.id`, []string{"ann|3", "bob|3", "cid|1", "dee|NULL"}},
		{`SELECT d.dept, e.name FROM emp e RIGHT JOIN dept d ON e.dept = d.dept AND e.salary > 90 ORDER BY d.floor`, []string{"ops|NULL", "hr|NULL", "eng|ann"}},
		{`SELECT name, floor FROM emp JOIN dept USING (dept) WHERE floor > 1 ORDER BY name`, []string{"ann|3", "bob|3"}},
		{`SELECT count(*) FROM emp, dept`, []string{"12"}},
		{`WITH rich (who, pay) AS (SELECT name, salary FROM emp WHERE salary >= 80) SELECT who FROM rich ORDER BY pay`, []string{"bob", "ann"}},
		{`WITH a AS (SELECT 1 AS x), b AS (SELECT x + 1 AS y FROM a) SELECT y FROM b`, []string{"2"}},
		{`SELECT s.n FROM (SELECT name AS n, salary FROM emp) s WHERE s.salary < 60`, []string{"cid"}},
		{`SELECT x.dept FROM (SELECT dept, count(*) AS c FROM emp GROUP BY dept) x WHERE x.c = 2`, []string{"eng"}},
		// uncorrelated subqueries
		{`SELECT name FROM emp WHERE salary = (SELECT max(salary) FROM emp)`, []string{"ann"}},
		{`SELECT name FROM emp WHERE dept IN (SELECT dept FROM dept WHERE floor > 2) ORDER BY 1`, []string{"ann", "bob"}},
		{`SELECT name FROM emp WHERE dept NOT IN (SELECT dept FROM dept WHERE floor > 2) ORDER BY 1`, []string{"cid"}},
		{`SELECT count(*) FROM emp WHERE EXISTS (SELECT 1 FROM dept WHERE floor = 2)`, []string{"4"}},
		{`SELECT (SELECT count(*) FROM dept) + 1`, []string{"4"}},
		// predicates and NULL semantics
		{`SELECT id FROM emp WHERE salary BETWEEN 70 AND 90 ORDER BY id`, []string{"2", "4"}},
		{`SELECT id FROM emp WHERE salary NOT BETWEEN 70 AND 90 ORDER BY id`, []string{"1", "3"}},
		{`SELECT id FROM emp WHERE dept IN ('ops', NULL)`, []string{"3"}},
		{`SELECT count(*) FROM emp WHERE dept NOT IN ('ops', NULL)`, []string{"0"}},
		{`SELECT id FROM emp WHERE dept <=> NULL`, []string{"4"}},
		{`SELECT id FROM emp WHERE dept IS NULL OR name LIKE 'c%' ORDER BY id`, []string{"3", "4"}},
		{`SELECT id FROM emp WHERE NOT (salary > 60) ORDER BY id`, []string{"3"}},
		{`SELECT CASE WHEN salary > 75 THEN 'high' WHEN salary > 60 THEN 'mid' END FROM emp ORDER BY id`, []string{"high", "high", "NULL", "mid"}},
		{`SELECT CASE dept WHEN 'eng' THEN 1 ELSE 0 END FROM emp ORDER BY id`, []string{"1", "1", "0", "0"}},
		{`SELECT coalesce(dept, 'none') FROM emp WHERE id = 4`, []string{"none"}},
		// arithmetic typing: integer division truncates, div(), decimal literals stay exact
		{`SELECT 7 / 2, 7 % 3, div(7, 2), -7 / 2`, []string{"3|1|3|-3"}},
		{`SELECT 7.0 / 2, 0.1 + 0.2, 1.5 * 2`, []string{"3.5000000000000000|0.3|3.0"}},
		{`SELECT salary * 1.5 FROM emp WHERE id = 3`, []string{"75.0"}},
		{`SELECT 2 * 3 + 4, 2 * (3 + 4), - (1 + 2)`, []string{"10|14|-3"}},
		// UNION widens types; UNION removes duplicates
		{`SELECT 1 UNION ALL SELECT 2.5 ORDER BY 1`, []string{"1.0", "2.5"}},
		{`SELECT dept FROM emp UNION SELECT dept FROM dept ORDER BY 1`, []string{"eng", "hr", "ops", "NULL"}},
		{`SELECT NULL UNION ALL SELECT NULL`, []string{"NULL", "NULL"}},
		// a select list without FROM, and constants folded
		{`SELECT 1 + 1, 'a' || 'b', NOT true, NULL IS NULL`, []string{"2|ab|false|true"}},
	}
	for _, c := range cases {
		got, err := queryRows(eng, c.q)
		if err != nil {
			t.Errorf("%s: %v", c.q, err)
			continue
		}
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", c.q, got, c.want)
		}
	}
}

// TestBindOutputNames checks result column names (PostgreSQL's naming of unaliased items).
func TestBindOutputNames(t *testing.T) {
	eng := newEngine(t, bindFixture)
	cases := map[string]string{
		`SELECT name, e.salary, upper(name), count(*), 1 + 1, CASE WHEN true THEN 1 END, name AS "N" FROM emp e GROUP BY name, e.salary`: "name,salary,upper,count,?column?,case,N",
		`SELECT * FROM emp JOIN dept USING (dept)`:                 "id,name,dept,salary,dept,floor",
		`WITH c (x) AS (SELECT id, name FROM emp) SELECT * FROM c`: "x,name",
	}
	for q, want := range cases {
		if got := strings.Join(columnNames(t, eng, q), ","); got != want {
			t.Errorf("%s:\n got %s\nwant %s", q, got, want)
		}
	}
}

// TestInsertBinding checks INSERT column lists, casts to the column types and defaults to NULL.
func TestInsertBinding(t *testing.T) {
	eng := newEngine(t, bindFixture+`
CREATE TABLE r (a BIGINT, b DOUBLE, c VARCHAR, d DATE);
INSERT INTO r (c, a) VALUES ('x', 1);
INSERT INTO r VALUES (2, 3, 'y', '2024-05-06');
INSERT INTO r (a, b) SELECT id, salary / 3 FROM emp WHERE id = 3;
`)
	got := rows(t, eng, `SELECT a, b, c, d FROM r ORDER BY a`)
	want := []string{"1|NULL|x|NULL", "2|3|y|2024-05-06", "3|16|NULL|NULL"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q want %q", got, want)
	}
	for q, msg := range map[string]string{
		`INSERT INTO r VALUES (1, 2)`:           "",
		`INSERT INTO r (a, zz) VALUES (1, 2)`:   "zz",
		`INSERT INTO rr VALUES (1)`:             `did you mean "r"?`,
		`INSERT INTO r (a) VALUES ('notanint')`: "notanint",
		`INSERT INTO r (d) VALUES (true)`:       `column "d" is of type DATE but expression is of type BOOLEAN`,
	} {
		_, err := eng.Exec(context.Background(), q)
		if err == nil || !strings.Contains(err.Error(), msg) || strings.Contains(err.Error(), "internal error") {
			t.Errorf("%s: got %v, want an error containing %q", q, err, msg)
		}
	}
}
