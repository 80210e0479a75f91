package sql_test

import (
	"context"
	"strings"
	"testing"

	"github.com/streamsql/streamsql"
	"github.com/streamsql/streamsql/exec"
)

// The tests of this package that need a catalog and an executor run SQL through the embedded
// engine (the root package), so they check what the rewrite, parser and binder mean end to end.

// rewriteFixture is a small table set shared by the end-to-end tests of the sql package.
const rewriteFixture = `
CREATE TABLE t (a BIGINT, s VARCHAR, ts TIMESTAMP, d DATE);
INSERT INTO t VALUES (1, 'x', TIMESTAMP '2024-03-01 10:20:30', DATE '2024-03-01'),
                     (2, 'y', TIMESTAMP '2024-03-02 23:05:00', DATE '2024-03-02'),
                     (3, NULL, NULL, NULL);
CREATE TABLE kw (key VARCHAR, boolean BOOLEAN, index BIGINT, status VARCHAR, value DOUBLE,
                 "timestamp" TIMESTAMP, "date" DATE, text VARCHAR);
INSERT INTO kw VALUES ('k1', true, 7, 'ok', 1.5, TIMESTAMP '2024-01-01 00:00:00', DATE '2024-01-02', 'hello');
CREATE TABLE "Mixed" ("Name" VARCHAR, id BIGINT);
INSERT INTO "Mixed" VALUES ('n1', 1);
`

// newEngine opens an engine and runs script on it; the engine is closed when the test ends.
func newEngine(t testing.TB, script string) *streamsql.Engine {
	t.Helper()
	eng, err := streamsql.Open(streamsql.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	if script != "" {
		res, err := eng.Exec(context.Background(), script)
		for _, r := range res {
			r.Release()
		}
		if err != nil {
			t.Fatalf("setup: %v", err)
		}
	}
	return eng
}

// rows runs q and renders every cell with exec.FormatValue: one string per row, cells joined by
// '|'.
func rows(t testing.TB, eng *streamsql.Engine, q string) []string {
	t.Helper()
	got, err := queryRows(eng, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return got
}

func queryRows(eng *streamsql.Engine, q string) ([]string, error) {
	res, err := eng.Query(context.Background(), q)
	if err != nil {
		return nil, err
	}
	defer res.Release()
	out := []string{}
	for _, rec := range res.Records {
		for i := 0; i < int(rec.NumRows()); i++ {
			cells := make([]string, rec.NumCols())
			for c := range cells {
				cells[c] = exec.FormatValue(rec.Column(c), i)
			}
			out = append(out, strings.Join(cells, "|"))
		}
	}
	return out, nil
}

// columnNames returns the result column names of q.
func columnNames(t testing.TB, eng *streamsql.Engine, q string) []string {
	t.Helper()
	res, err := eng.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer res.Release()
	var names []string
	for _, f := range res.Schema.Fields() {
		names = append(names, f.Name)
	}
	return names
}

// TestRewriteMeaning checks that each PostgreSQL/Spark form the rewrite handles parses and binds to
// the intended meaning. Expectations are PostgreSQL's output for the same statement.
func TestRewriteMeaning(t *testing.T) {
	eng := newEngine(t, rewriteFixture)
	cases := []struct {
		q    string
		want []string
	}{
		// casts
		{`SELECT CAST('1.5' AS DOUBLE) * 2`, []string{"3"}},
		{`SELECT CAST('1.5' AS DOUBLE PRECISION) + 1`, []string{"2.5"}},
		{`SELECT CAST(CAST(7 AS VARCHAR) AS BIGINT) + 1`, []string{"8"}},
		{`SELECT CAST((1 + 2) AS VARCHAR) || 'x'`, []string{"3x"}},
		{`SELECT CAST('12.345' AS DECIMAL(10, 2))`, []string{"12.35"}},
		{`SELECT '42'::BIGINT + 1`, []string{"43"}},
		{`SELECT '2.5'::double precision * 2`, []string{"5"}},
		{`SELECT (1+2)::VARCHAR || 'x'`, []string{"3x"}},
		{`SELECT 7::VARCHAR || 'x'`, []string{"7x"}},
		{`SELECT '1.239'::DECIMAL(5,2)`, []string{"1.24"}},
		{`SELECT t.a::DOUBLE / 2 FROM t ORDER BY a`, []string{"0.5", "1", "1.5"}},
		{`SELECT a::VARCHAR || s FROM t WHERE a < 3 ORDER BY a`, []string{"1x", "2y"}},
		{`SELECT count(*)::VARCHAR FROM t`, []string{"3"}},
		{`SELECT upper(s)::VARCHAR FROM t WHERE a = 1`, []string{"X"}},
		{`SELECT 'true'::BOOLEAN AND true`, []string{"true"}},
		{`SELECT a::bigint::varchar || '!' FROM t WHERE a = 1`, []string{"1!"}},
		// NULLS FIRST/LAST and ILIKE
		{`SELECT s FROM t ORDER BY s NULLS FIRST`, []string{"NULL", "x", "y"}},
		{`SELECT s FROM t ORDER BY s DESC NULLS LAST`, []string{"y", "x", "NULL"}},
		{`SELECT a FROM t WHERE s ILIKE 'X'`, []string{"1"}},
		// timestamp, date and interval literals
		{`SELECT TIMESTAMP '2024-01-01 10:00:00' + INTERVAL '10' MINUTE`, []string{"2024-01-01 10:10:00"}},
		{`SELECT timestamp '2024-01-01 10:00:00' + interval 10 minutes`, []string{"2024-01-01 10:10:00"}},
		{`SELECT TIMESTAMP '2024-01-01 10:00:00' + INTERVAL 10 MINUTE`, []string{"2024-01-01 10:10:00"}},
		{`SELECT TIMESTAMP '2024-01-01 10:00:00' + INTERVAL '1 hour 30 minutes'`, []string{"2024-01-01 11:30:00"}},
		{`SELECT TIMESTAMP '2024-01-01 10:00:00' + INTERVAL '-1 hour'`, []string{"2024-01-01 09:00:00"}},
		{`SELECT TIMESTAMP '2024-01-01 10:00:00' + INTERVAL -2 HOURS`, []string{"2024-01-01 08:00:00"}},
		{`SELECT TIMESTAMP '2024-01-01 10:00:00' - INTERVAL '1' DAY`, []string{"2023-12-31 10:00:00"}},
		{`SELECT DATE '2024-02-28' + 1`, []string{"2024-02-29"}},
		{`SELECT CAST('2024-02-28' AS DATE)`, []string{"2024-02-28"}},
		{`SELECT '2024-02-28 12:00:00'::TIMESTAMP`, []string{"2024-02-28 12:00:00"}},
		{`SELECT EXTRACT(HOUR FROM ts) FROM t ORDER BY a`, []string{"10", "23", "NULL"}},
		{`SELECT extract(minute from TIMESTAMP '2024-01-01 10:42:00')`, []string{"42"}},
		{`SELECT EXTRACT(YEAR FROM d) FROM t WHERE a = 1`, []string{"2024"}},
		// identifiers: "Quoted" keeps its case, bare names fold to lower case
		{`SELECT "Name", ID FROM "Mixed"`, []string{"n1|1"}},
		{`SELECT m."Name" FROM "Mixed" AS M`, []string{"n1"}},
		{`SELECT A, S FROM T WHERE A = 2`, []string{"2|y"}},
		// columns named like keywords
		{`SELECT key, boolean, index, status, value, "timestamp", "date", text FROM kw`,
			[]string{"k1|true|7|ok|1.5|2024-01-01 00:00:00|2024-01-02|hello"}},
		{`SELECT kw.key, kw.index + 1 FROM kw WHERE key = 'k1' AND boolean`, []string{"k1|8"}},
		{`SELECT timestamp, date + 1, kw.timestamp FROM kw WHERE timestamp < TIMESTAMP '2025-01-01 00:00:00'`,
			[]string{"2024-01-01 00:00:00|2024-01-03|2024-01-01 00:00:00"}},
		{`SELECT max(date), count(status) FROM kw GROUP BY text`, []string{"2024-01-02|1"}},
		{`SELECT value * 2 AS value FROM kw ORDER BY value`, []string{"3"}},
		{`SELECT key FROM kw GROUP BY key`, []string{"k1"}},
		// strings: backslash is an ordinary character, '' is one quote
		{`SELECT length('a\b'), 'a\b'`, []string{`3|a\b`}},
		{`SELECT 'it''s', length('''')`, []string{"it's|1"}},
		{`SELECT 'a\' || 'b'`, []string{`a\b`}},
		{`SELECT 'x\nz' LIKE 'x%'`, []string{"true"}},
		{`SELECT '\'`, []string{`\`}},
		// concatenation
		{`SELECT 'a' || 'b' || 'c'`, []string{"abc"}},
		{`SELECT s || '-' || a FROM t WHERE a = 1`, []string{"x-1"}},
		{`SELECT s || NULL FROM t WHERE a = 1`, []string{"NULL"}},
		// OFFSET without LIMIT, and with it
		{`SELECT a FROM t ORDER BY a OFFSET 1`, []string{"2", "3"}},
		{`SELECT a FROM t ORDER BY a LIMIT 1 OFFSET 1`, []string{"2"}},
		{`SELECT a FROM t ORDER BY a OFFSET 5`, []string{}},
		// comments anywhere
		{"SELECT /* c1 */ a -- c2\n FROM /* c3 */ t -- c4\n WHERE a /* c5 */ = 1 -- end", []string{"1"}},
		{"-- leading\nSELECT 1 /* trailing */", []string{"1"}},
		{"SELECT CAST(/* in cast */ '3' AS /* type */ BIGINT)", []string{"3"}},
		{"SELECT '--not a comment', '/* nor this */'", []string{"--not a comment|/* nor this */"}},
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

// TestRewriteOutputNames checks the column names PostgreSQL gives the rewritten forms.
func TestRewriteOutputNames(t *testing.T) {
	eng := newEngine(t, rewriteFixture)
	cases := map[string]string{
		`SELECT a::VARCHAR FROM t`:            "a",
		`SELECT CAST(a AS DOUBLE) FROM t`:     "a",
		`SELECT '1'::BIGINT`:                  "bigint", // PostgreSQL says int8
		`SELECT "Name" FROM "Mixed"`:          "Name",
		`SELECT Id FROM "Mixed"`:              "id",
		`SELECT a AS "Big A" FROM t`:          "Big A",
		`SELECT key FROM kw`:                  "key",
		`SELECT EXTRACT(HOUR FROM ts) FROM t`: "extract",
	}
	for q, want := range cases {
		names := columnNames(t, eng, q)
		if len(names) != 1 || names[0] != want {
			t.Errorf("%s: column names %q, want %q", q, names, want)
		}
	}
}

// TestRewriteRefusals checks that unsupported forms fail with a message saying what is wrong,
// instead of a bare syntax error or a different meaning.
func TestRewriteRefusals(t *testing.T) {
	eng := newEngine(t, rewriteFixture)
	cases := []struct{ q, want string }{
		{`SELECT * FROM t x NATURAL JOIN t y`, "NATURAL JOIN is not supported"},
		{`SELECT a, row_number() OVER w FROM t WINDOW w AS (ORDER BY a)`, "the WINDOW clause is not supported"},
		{`SELECT a FROM t WHERE rank() OVER (ORDER BY a) = 1`, "window functions are not allowed here"},
		{`SELECT a FROM t WHERE s SIMILAR TO 'X'`, "SIMILAR TO is not supported"},
		{`SELECT 'abc`, "unterminated string literal"},
		{`SELECT a FROM t /* no end`, "unterminated /* comment"},
		{`SELECT "abc FROM t`, "unterminated quoted identifier"},
		// syntax errors are PostgreSQL's: the first token the grammar cannot continue with
		{`SELECT a:: FROM t`, `unexpected "FROM"`},
		{`SELECT a:: `, "unexpected end of statement"},
		{`SELECT CAST(a) FROM t`, `unexpected ")"`},
		{`SELECT CAST(a AS) FROM t`, `unexpected ")"`},
		{`SELECT CAST(a AS BIGINT FROM t`, `unexpected "FROM"`},
		{`SELECT CAST(a AS NOSUCHTYPE) FROM t`, "NOSUCHTYPE"},
		{`SELECT INTERVAL 10`, "INTERVAL 10 needs a unit"},
		{`SELECT offset FROM t`, `unexpected "FROM"`},
		{`SELECT CAST(1 AS BIGINT) CAST(2 AS BIGINT)`, `unexpected "("`}, // the second CAST is taken as an alias
		{`SELECT INTERVAL '10 lightyears'`, "lightyears"},
		{`SELECT TIMESTAMP 'yesterday-ish'`, "yesterday-ish"},
	}
	for _, c := range cases {
		_, err := queryRows(eng, c.q)
		if err == nil {
			t.Errorf("%s: no error, want one containing %q", c.q, c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n got error %v\nwant it to contain %q", c.q, err, c.want)
		}
		if strings.Contains(err.Error(), "internal error") {
			t.Errorf("%s: internal error: %v", c.q, err)
		}
	}
}
