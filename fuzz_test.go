package streamsql

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fuzzSetup is run on a fresh engine before each fuzz input: two small tables with every common
// type, so fuzzed queries reach the binder, the planner and the operators, not only the parser.
const fuzzSetup = `
CREATE TABLE t (a BIGINT, s VARCHAR, d DOUBLE, m DECIMAL(10,2), ts TIMESTAMP, dt DATE, b BOOLEAN);
INSERT INTO t VALUES
  (1, 'x', 1.5, 2.25, TIMESTAMP '2024-01-01 10:00:00', DATE '2024-01-01', true),
  (2, 'y z', -0.5, 10.00, TIMESTAMP '2024-01-01 10:07:00', DATE '2024-01-02', false),
  (NULL, NULL, NULL, NULL, NULL, NULL, NULL);
CREATE TABLE u (a BIGINT, v VARCHAR);
INSERT INTO u VALUES (1, 'one'), (3, 'three');
`

// fuzzSeeds returns the SQL of every statement and query of the conformance files: the lines after
// a "statement ..." or "query ..." header up to "----" or a blank line.
func fuzzSeeds(tb testing.TB) []string {
	files, err := filepath.Glob("conformance/testdata/*.slt")
	if err != nil {
		tb.Fatal(err)
	}
	var seeds []string
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			tb.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		var cur []string
		in := false
		flush := func() {
			if len(cur) > 0 {
				seeds = append(seeds, strings.Join(cur, "\n"))
			}
			cur, in = nil, false
		}
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "statement ") || strings.HasPrefix(line, "query "):
				flush()
				in = true
			case in && (line == "----" || strings.TrimSpace(line) == ""):
				flush()
			case in:
				cur = append(cur, line)
			}
		}
		flush()
		f.Close()
		if err := sc.Err(); err != nil {
			tb.Fatal(err)
		}
	}
	if len(seeds) < 50 {
		tb.Fatalf("found only %d seed statements in conformance/testdata/*.slt; did the files move?", len(seeds))
	}
	return seeds
}

// FuzzExec runs fuzzed scripts through Engine.Exec. Any input may fail, but only with an ordinary
// error: a panic (which the engine turns into "internal error"), a leaked goroutine dump or an
// Exec that does not return soon after its context expires is a bug.
func FuzzExec(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	for _, s := range []string{
		``, `;`, `;;;`, `SELECT`, `SELECT 'a\b', 'it''s', "q""x" FROM t`, `SELECT 'unterminated`,
		`SELECT "unterminated`, `SELECT /* open`, `SELECT 1 -- tail`, `SELECT a:: FROM t`, `SELECT ::int`,
		`SELECT (1+2)::VARCHAR || 'x'`, `SELECT a::bigint::varchar FROM t`, `SELECT CAST(`, `SELECT CAST(a AS`,
		`SELECT INTERVAL`, `SELECT INTERVAL -`, `SELECT INTERVAL '1' `, `SELECT TIMESTAMP`, `SELECT EXTRACT(`,
		`SELECT EXTRACT(HOUR FROM`, `SELECT * FROM t FULL`, `SELECT a FROM t ORDER BY a NULLS`,
		`SELECT a FROM t OFFSET`, `SELECT a FROM t LIMIT 1 OFFSET`, `WITH`, `WITH c AS (`, `WITH c AS (SELECT 1`,
		`WITH c(x, y) AS (SELECT 1) SELECT * FROM c`, `EXPLAIN`, `EXPLAIN SELECT * FROM t, u WHERE t.a = u.a`,
		`CREATE TABLE`, `CREATE TABLE x (`, `CREATE TABLE x (a DECIMAL(`, `CREATE TABLE x (a DECIMAL(99, 99))`,
		`CREATE TABLE x (a BIGINT) WITH (`, `INSERT INTO t VALUES`, `INSERT INTO t (a) SELECT a FROM u`,
		`INSERT INTO u VALUES (1)`, `DESCRIBE`, `SHOW`, `DROP TABLE`, `SELECT 9223372036854775807 + 1`,
		`SELECT -9223372036854775808`, `SELECT 1e400`, `SELECT 99999999999999999999999999999999999999999`,
		`SELECT a FROM t GROUP BY 0`, `SELECT (SELECT a FROM t)`, `SELECT * FROM (SELECT 1) x, (SELECT 2) y`,
		`SELECT explode(split(s, ' ')) FROM t`, `SELECT substring(s FROM 2) FROM t`, `SELECT s ||`,
		"SELECT a\n FROM t\n WHERE a = = 1", `SELECT ?`, `SELECT x'FF'`, `SELECT a FROM t WHERE a IN ()`,
		`SELECT count(DISTINCT a), sum(DISTINCT d) FROM t`, `SELECT * FROM t LEFT JOIN u USING (a)`,
	} {
		f.Add(s)
	}
	for _, s := range fuzzTrickySeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, script string) {
		eng, err := Open(Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer eng.Close()
		if _, err := eng.Exec(context.Background(), fuzzSetup); err != nil {
			t.Fatalf("setup: %v", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		type outcome struct {
			res []*Result
			err error
		}
		done := make(chan outcome, 1)
		go func() {
			res, err := eng.Exec(ctx, script)
			done <- outcome{res, err}
		}()
		select {
		case o := <-done:
			for _, r := range o.res {
				r.Release()
			}
			if o.err != nil {
				msg := o.err.Error()
				for _, bad := range []string{"internal error", "goroutine", "panic"} {
					if strings.Contains(msg, bad) {
						t.Fatalf("Exec(%q): %v", script, o.err)
					}
				}
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("Exec(%q) did not return within 8 s after its context expired", script)
		}
	})
}

// fuzzTrickySeeds reach the corners of every layer: odd syntax the rewrite handles or refuses,
// binder rules, overflow and conversion errors in kernels, joins the planner rewrites, DDL and
// INSERT errors, and deep nesting.
var fuzzTrickySeeds = []string{
	"SELECT a FROM t ORDER BY a LIMIT 9223372036854775807 OFFSET 9223372036854775807",
	"SELECT * FROM t OFFSET 1 LIMIT 1", "SELECT a FROM t LIMIT 1 OFFSET 1 OFFSET 2",
	"SELECT 1 FROM t GROUP BY 1", "SELECT count(*) FROM t GROUP BY 1",
	"SELECT a, a FROM t ORDER BY a", "SELECT a AS x, s AS x FROM t ORDER BY x",
	"SELECT a FROM t GROUP BY a ORDER BY count(*)", "SELECT DISTINCT a FROM t ORDER BY 1 DESC",
	"SELECT (SELECT a FROM t)", "SELECT (SELECT a FROM t LIMIT 1)", "SELECT a FROM t WHERE a = (SELECT a FROM u)",
	"SELECT * FROM (SELECT 1) x, (SELECT 2) y", "SELECT * FROM (SELECT 1, 2) x", "SELECT x.* FROM (SELECT 1 AS a, 2 AS a) x",
	"SELECT a FROM (SELECT 1 AS a, 2 AS a) x", "WITH c(x, y, z) AS (SELECT 1) SELECT * FROM c",
	"WITH c AS (SELECT 1 AS x) SELECT * FROM c, c", "WITH c AS (SELECT 1 AS x) SELECT * FROM c c1 JOIN c c2 ON c1.x = c2.x",
	"SELECT * FROM t JOIN u USING (a) JOIN u u2 USING (a)", "SELECT * FROM t NATURAL JOIN u",
	"SELECT * FROM t STRAIGHT_JOIN u ON t.a = u.a", "SELECT * FROM t LEFT JOIN u USING (a) WHERE u.v IS NULL",
	"SELECT * FROM t RIGHT JOIN u ON true", "SELECT * FROM (t JOIN u ON t.a = u.a)",
	"SELECT sum(a) FROM t HAVING sum(a) > 0 ORDER BY sum(a)", "SELECT a FROM t HAVING a > 0",
	"SELECT count(*) FROM t WHERE a IN (SELECT a FROM u) OR a IN (SELECT a FROM t)",
	"SELECT CASE WHEN a THEN 1 END FROM t", "SELECT CASE a WHEN 'x' THEN 1 END FROM t", "SELECT CASE WHEN NULL THEN NULL END",
	"SELECT a IN (1, 'x') FROM t", "SELECT NULL IN (NULL)", "SELECT a IN (SELECT v FROM u) FROM t",
	"SELECT 1 UNION SELECT 2 ORDER BY 3", "SELECT 1 AS x UNION SELECT 2 ORDER BY y", "(SELECT 1) UNION ALL (SELECT 2) ORDER BY 1 LIMIT 1",
	"SELECT 1 UNION ALL SELECT 'a'", "SELECT -(-9223372036854775808)", "SELECT -9223372036854775808 / -1", "SELECT 9223372036854775807 * 2",
	"SELECT abs(-9223372036854775808)", "SELECT 1e308 * 10", "SELECT 0.0 / 0", "SELECT 1 % 0.0",
	"SELECT CAST(1e30 AS BIGINT)", "SELECT CAST('1e400' AS DOUBLE)", "SELECT CAST(99999999999999999999999999999999999999 AS DECIMAL(38,0)) + 1",
	"SELECT CAST(1 AS DECIMAL(38,38))", "SELECT 1::DECIMAL(1,0) * 100", "SELECT 12345678901234567890123456789012345678.5",
	"SELECT substring('abc', -5, 2)", "SELECT substring('abc', 2, -1)", "SELECT substring('abc' FROM 9223372036854775807)",
	"SELECT repeat('x', -1)", "SELECT lpad('x', -5)", "SELECT lpad('x', 5, '')", "SELECT split('a,b', '')",
	"SELECT explode(split('a,b', ','))", "SELECT explode(split(s, ',')), explode(split(s, ',')) FROM t", "SELECT explode(1)",
	"SELECT explode(split(s, ',')) FROM t ORDER BY 1", "SELECT count(*) FROM t GROUP BY explode(split(s, ','))",
	"SELECT DISTINCT explode(split('a,a', ','))", "SELECT explode(NULL)",
	"SELECT INTERVAL '1' MONTH", "SELECT INTERVAL '1 year'", "SELECT TIMESTAMP '2024-01-01' + INTERVAL '1 month'",
	"SELECT DATE '2024-01-31' + INTERVAL '1 day'", "SELECT EXTRACT(EPOCH FROM TIMESTAMP '2024-01-01')", "SELECT EXTRACT(FOO FROM ts) FROM t",
	"SELECT TIMESTAMP '294277-01-01 00:00:00'", "SELECT DATE '9999999-01-01'", "SELECT now() - INTERVAL '1000000000 days'",
	"SELECT date_trunc('hour', ts) FROM t", "SELECT date_trunc('nope', ts) FROM t",
	"SELECT a FROM t WHERE s LIKE '\\'", "SELECT a FROM t WHERE s LIKE '%%%%%%%%%%%%%%%%%%%%%%%%%%a'", "SELECT 'a' REGEXP '('",
	"SELECT s FROM t WHERE s REGEXP '[[:alpha:]'", "SELECT a <=> NULL FROM t", "SELECT NULL <=> NULL", "SELECT 1 DIV 0", "SELECT 'x' DIV 1",
	"SELECT !a FROM t", "SELECT ~a FROM t", "SELECT a & 1 FROM t", "SELECT a << 1 FROM t", "SELECT b XOR b FROM t",
	"SELECT a FROM t WHERE a = ANY (SELECT a FROM u)", "SELECT a FROM t WHERE (a, s) IN ((1, 'x'))", "SELECT (1, 2)",
	"SELECT @x", "SELECT @@version", "SELECT ?", "SELECT :x", "SELECT $1", "SELECT a FROM t FOR UPDATE", "SELECT a FROM t LOCK IN SHARE MODE",
	"SELECT a COLLATE utf8 FROM t", "SELECT CONVERT(a, CHAR) FROM t", "SELECT CONVERT(s USING utf8) FROM t", "SELECT MATCH(s) AGAINST ('x') FROM t",
	"SELECT GROUP_CONCAT(s) FROM t", "SELECT a FROM t USE INDEX (x)", "SELECT a FROM db.t", "SELECT t.* FROM t", "SELECT u.* FROM t",
	"SELECT * FROM dual", "SELECT 1 FROM dual WHERE false", "SELECT sum(1) FROM dual", "SELECT count(*)",
	"SELECT max(ts), min(dt), avg(m), sum(m), avg(d) FROM t", "SELECT avg(s) FROM t", "SELECT min(b), max(b) FROM t", "SELECT sum(DISTINCT m) FROM t",
	"SELECT count(DISTINCT a, s) FROM t", "SELECT count() FROM t", "SELECT count(*, a) FROM t", "SELECT now(1)", "SELECT coalesce()", "SELECT coalesce(1, 'a')",
	"SELECT greatest(1, 'a')", "SELECT concat()", "SELECT upper()", "SELECT length(NULL)", "SELECT round(1.2345, 2), round(d, -1) FROM t",
	"SELECT round(m, 100) FROM t", "SELECT power(10, 400)", "SELECT sqrt(-1)", "SELECT ln(0)", "SELECT log(-1)", "SELECT mod(5, 0)",
	"INSERT INTO t (a) VALUES (1), (2, 3)", "INSERT INTO t (a, a) VALUES (1, 2)", "INSERT INTO t VALUES (a)", "INSERT INTO t (a) VALUES ((SELECT 1))",
	"INSERT INTO t (a) SELECT a, a FROM u", "INSERT INTO t SELECT * FROM t", "INSERT INTO t (s) VALUES (now())", "INSERT INTO t (ts) VALUES ('2024-01-01')",
	"INSERT INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE a = 2", "INSERT INTO t SET a = 1", "REPLACE INTO t VALUES (1)", "INSERT INTO t (dt) VALUES (TIMESTAMP '2024-01-01 10:00:00')",
	"CREATE TABLE x (a BIGINT); CREATE TABLE x (a BIGINT)", "CREATE TABLE IF NOT EXISTS t (z BIGINT)", "DROP TABLE t; SELECT * FROM t",
	"CREATE TABLE y (a VARCHAR(0))", "CREATE TABLE y (a DECIMAL(0))", "CREATE TABLE y (a DECIMAL(2,5))", "CREATE TABLE y (a DECIMAL(99999999999999999999))",
	"CREATE TABLE y ()", "CREATE TABLE y (a BIGINT) WITH ()", "CREATE TABLE y (a BIGINT) WITH (connector='file')", "CREATE TABLE y (a BIGINT) WITH (connector='file', path='/nonexistent', format='csv')",
	"CREATE TABLE y (a BIGINT) WITH (connector='file', path='/tmp/*.nomatch', format='csv'); SELECT * FROM y",
	"EXPLAIN INSERT INTO t VALUES (1)", "EXPLAIN EXPLAIN SELECT 1", "EXPLAIN SELECT (SELECT 1)", "DESCRIBE nosuch", "SHOW COLUMNS FROM nosuch",
	"SELECT a FROM t t1, t t2", "SELECT t1.a FROM t t1, t t1", "SELECT * FROM t, t", "SELECT t.a FROM t AS x",
	"SELECT a + 1 AS b FROM t GROUP BY b", "SELECT a AS s FROM t GROUP BY s", "SELECT a + 1 FROM t GROUP BY a + 1 ORDER BY a + 1",
	"SELECT a FROM t ORDER BY (SELECT 1)", "SELECT a FROM t GROUP BY (SELECT 1)", "SELECT (SELECT count(*) FROM u) FROM t GROUP BY a",
	"SELECT count(*) FROM t WHERE EXISTS (SELECT * FROM u)", "SELECT EXISTS (SELECT 1)", "SELECT NOT EXISTS (SELECT 1 WHERE false)",
	"SELECT 1 WHERE 1 IN (SELECT 1 UNION ALL SELECT 2)", "SELECT 1 FROM t WHERE a IN (SELECT NULL)", "SELECT a FROM t WHERE a NOT IN (SELECT a FROM u WHERE false)",
	"SELECT '\\x00'", "SELECT 'é' || '漢字'", "SELECT length('漢字'), upper('ß')", "SELECT \"\"", "SELECT `a` FROM t", "SELECT \"a\"\"b\" FROM t",
	"SELECT a FROM t WHERE a BETWEEN 'a' AND 2", "SELECT a FROM t WHERE ts BETWEEN '2024-01-01' AND '2024-02-01'", "SELECT a FROM t WHERE ts > '2024'", "SELECT a FROM t WHERE dt = ts",
	"SELECT 1 LIMIT 1 OFFSET -0", "SELECT 1 LIMIT 1, 2", "SELECT 1 LIMIT 1.5", "SELECT 1 LIMIT NULL", "SELECT 1 LIMIT (1+1)", "SELECT 1 LIMIT 9223372036854775808",
	"select (((((((((((((((((((((((((((((((1)))))))))))))))))))))))))))))))", strings.Repeat("SELECT 1 UNION ALL ", 200) + "SELECT 1",
	"SELECT " + strings.Repeat("1 + ", 500) + "1", "SELECT " + strings.Repeat("(", 500) + "1" + strings.Repeat(")", 500),
	"SELECT a::", "SELECT ::", "SELECT a::(", "SELECT a::int(", "SELECT a::decimal(1,", "SELECT x::decimal(100,2) FROM (SELECT 1 AS x) s", "SELECT 'a'::varchar(5)::text",
	"SELECT CAST(a AS DECIMAL(5,2) FROM t", "SELECT CAST(AS int)", "SELECT CAST(1 AS)", "SELECT CAST()", "SELECT CAST", "SELECT EXTRACT(HOUR FROM)", "SELECT EXTRACT(FROM ts) FROM t",
	"SELECT INTERVAL 'x' HOUR", "SELECT INTERVAL - 5 HOUR", "SELECT INTERVAL -'5' HOUR", "SELECT INTERVAL 1.5 HOUR", "SELECT INTERVAL 99999999999999999999 HOUR", "SELECT TIMESTAMP ''", "SELECT DATE ''",
	"SELECT TIMESTAMP '2024-01-01'::DATE", "SELECT 1 FROM t WHERE ts = TIMESTAMP", "WITH", "WITH x AS", "WITH x AS (", "WITH x AS ()", "WITH x AS (SELECT 1) INSERT INTO t (a) SELECT 1",
	"WITH x AS (SELECT 1) ", "WITH x(a AS (SELECT 1) SELECT 1", "WITH x() AS (SELECT 1) SELECT 1", "EXPLAIN", "EXPLAIN (SELECT 1", "DESC", "DESC t", "SHOW COLUMNS", "SHOW COLUMNS FROM",
	"SELECT a FROM t ORDER BY a NULLS", "SELECT * FROM t FULL", "SELECT a OVER", "SELECT 1 FROM t WINDOW w AS ()", "SELECT ILIKE", "SELECT a FROM t t WHERE t.a = 1 AND t.t = 1",
	"SELECT substring(s, 1, 2, 3) FROM t", "SELECT substring(s FROM 1 FOR 2) FROM t", "SELECT substring() FROM t", "SELECT substr(s) FROM t", "SELECT trim(BOTH 'x' FROM s) FROM t", "SELECT position('a' IN s) FROM t",
	"SELECT window(ts, '10 minutes') FROM t", "SELECT count(*) FROM t GROUP BY window(ts, '10 minutes')", "SELECT session_window(ts, '1 minute') FROM t",
	"SELECT current_timestamp", "SELECT current_timestamp()", "SELECT current_date", "SELECT localtime", "SELECT utc_date()",
	"SELECT a FROM t WHERE a IN ()", "SELECT a FROM t WHERE a IN (SELECT)", "SELECT a FROM t WHERE a IN (SELECT a, s FROM t)", "SELECT (SELECT a, s FROM t) FROM t",
	"SELECT * FROM (SELECT * FROM (SELECT * FROM (SELECT a FROM t) x) y) z WHERE z.a > 0",
	"SELECT * FROM t x JOIN u y ON x.a = y.a JOIN u z ON y.a = z.a LEFT JOIN t w ON w.a = z.a AND w.s = 'x' WHERE w.a IS NULL AND x.s > 'a'",
	"SELECT * FROM t LEFT JOIN u ON t.a = u.a LEFT JOIN u u2 ON u2.a = u.a WHERE u2.v = 'one'",
	"SELECT * FROM t RIGHT JOIN u ON t.a = u.a WHERE t.a IS NULL AND u.v = 'three'",
	"SELECT * FROM t CROSS JOIN u WHERE t.a = u.a OR t.a IS NULL",
}
