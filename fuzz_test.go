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
