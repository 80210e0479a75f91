package sql_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/sql"
)

// TestLectureQuery runs the lecture's own query as written: WINDOW in capitals (reserved in
// PostgreSQL), a column named time and the duration in double quotes.
func TestLectureQuery(t *testing.T) {
	eng := newEngine(t, `
CREATE TABLE events (action VARCHAR, time TIMESTAMP);
INSERT INTO events VALUES ('open', TIMESTAMP '2024-01-01 10:05:00'), ('open', TIMESTAMP '2024-01-01 10:55:00'),
                          ('close', TIMESTAMP '2024-01-01 11:10:00'), ('open', TIMESTAMP '2024-01-01 11:20:00');
`)
	got := rows(t, eng, `SELECT action, WINDOW(time, "1 hour"), COUNT(*) FROM events GROUP BY action, WINDOW(time, "1 hour") ORDER BY 2, 1`)
	want := []string{
		"open|2024-01-01 10:00:00|2024-01-01 11:00:00|2",
		"close|2024-01-01 11:00:00|2024-01-01 12:00:00|1",
		"open|2024-01-01 11:00:00|2024-01-01 12:00:00|1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q\nwant %q", got, want)
	}
	// Spark's forms: backquoted names, INTERVAL n UNIT as a window size, window.start.
	got = rows(t, eng, "SELECT `action`, count(*) FROM `events` GROUP BY `action`, window(`time`, INTERVAL 2 HOURS) ORDER BY 1")
	if strings.Join(got, ",") != "close|1,open|3" {
		t.Errorf("backquotes: got %q", got)
	}
}

// TestPreStepPositions checks that errors after a rewritten token still point at what the user
// typed: the pre-step changes the text's length before them.
func TestPreStepPositions(t *testing.T) {
	eng := newEngine(t, rewriteFixture)
	cases := []struct{ q, at, msg string }{
		{"SELECT `a`, window(ts, \"1 hour\") FROM t WHERE nope = 1", "nope", `column "nope" does not exist`},
		{"SELECT ts + INTERVAL 10 MINUTE + zz FROM t", "zz", `column "zz" does not exist`},
		{"SELECT `a` FROM t WHERE a = = 1", "= 1", `unexpected "="`},
		{"SELECT ünïcode, zz FROM t", "ünïcode", `column "ünïcode" does not exist`},
		{"SELECT 'ünï' FROM t WHERE", "", "unexpected end of statement"},
	}
	for _, c := range cases {
		_, err := queryRows(eng, c.q)
		var se *sql.Error
		if !errors.As(err, &se) {
			t.Errorf("%s: got %v, want a *sql.Error", c.q, err)
			continue
		}
		if !strings.Contains(se.Msg, c.msg) {
			t.Errorf("%s: message %q, want %q", c.q, se.Msg, c.msg)
		}
		if c.at != "" && !strings.HasPrefix(c.q[se.Pos:], c.at) {
			t.Errorf("%s: caret at %q, want %q", c.q, c.q[se.Pos:], c.at)
		}
		if c.at == "" && se.Pos != len(c.q) {
			t.Errorf("%s: caret at %d, want the end %d", c.q, se.Pos, len(c.q))
		}
	}
}

// TestStatementLimits: huge expressions get an error with SQLSTATE 54001, not a crashed process.
func TestStatementLimits(t *testing.T) {
	eng := newEngine(t, "")
	for name, q := range map[string]string{
		"2 MB of 1+1+...":  "SELECT 1" + strings.Repeat("+1", 1<<20),
		"deep parentheses": "SELECT " + strings.Repeat("(", 100000) + "1" + strings.Repeat(")", 100000),
		"deep CASE":        "SELECT " + strings.Repeat("CASE WHEN true THEN ", 5000) + "1" + strings.Repeat(" END", 5000),
		"deep NOT":         "SELECT " + strings.Repeat("NOT ", 200000) + "true",
		"deep subqueries":  strings.Repeat("SELECT * FROM (", 3000) + "SELECT 1" + strings.Repeat(") x", 3000),
	} {
		_, err := queryRows(eng, q)
		var se *sql.Error
		if !errors.As(err, &se) || se.Code != sql.CodeTooComplex {
			msg := ""
			if err != nil {
				msg = err.Error()
				if len(msg) > 200 {
					msg = msg[:200]
				}
			}
			t.Errorf("%s: got %s, want a SQLSTATE 54001 error", name, msg)
		}
	}
	// Wide but shallow statements stay accepted: PostgreSQL's tree for a chain of ANDs is flat.
	if got := rows(t, eng, "SELECT true"+strings.Repeat(" AND true", 100000)); got[0] != "true" {
		t.Errorf("100k ANDs: %q", got)
	}
	if got := rows(t, eng, "SELECT count(*) FROM (VALUES "+strings.Repeat("(-1), ", 20000)+"(1)) v"); got[0] != "20001" {
		t.Errorf("wide VALUES: %q", got)
	}
	if got := rows(t, eng, "SELECT 1 WHERE 1 IN ("+strings.Repeat("-2, ", 20000)+"1)"); got[0] != "1" {
		t.Errorf("wide IN: %q", got)
	}
}

// TestErrorCodes: each error carries the SQLSTATE PostgreSQL gives the same mistake, chosen where
// it is raised; internal helper functions cannot be called.
func TestErrorCodes(t *testing.T) {
	eng := newEngine(t, errorsFixture)
	for q, want := range map[string]string{
		`SELEC 1`:                                    "42601",
		`SELECT * FROM nope`:                         "42P01",
		`SELECT nope FROM t`:                         "42703",
		`SELECT x.a FROM t`:                          "42P01",
		`SELECT a FROM t, u`:                         "42702",
		`SELECT nofn(a) FROM t`:                      "42883",
		`SELECT __cast(a, 'DOUBLE') FROM t`:          "42883",
		`SELECT a + s FROM t`:                        "42883",
		`SELECT 1/0`:                                 "22012",
		`SELECT CAST('x' AS BIGINT)`:                 "22P02",
		`SELECT 9223372036854775807 + 1`:             "22003",
		`SELECT s, count(*) FROM t GROUP BY a`:       "42803",
		`SELECT a FROM t WHERE a`:                    "42804",
		`SELECT a FROM t LIMIT -1`:                   "2201W",
		`SELECT a FROM t EXCEPT ALL SELECT s FROM t`: "42804",
		`SELECT CAST(a AS nosuchtype) FROM t`:        "42704",
		`ROLLBACK`:                                   "0A000",
		`UPDATE t SET nosuch = 1`:                    "42703",
		`SELECT a FROM t ORDER BY 5`:                 "42P10",
	} {
		_, err := queryRows(eng, q)
		if got := exec.SQLState(err); got != want {
			t.Errorf("%s: SQLSTATE %q (%v), want %s", q, got, err, want)
		}
	}
}

// TestReadmeWindowExample runs the window-function example of the README.
func TestReadmeWindowExample(t *testing.T) {
	eng := newEngine(t, bindFixture)
	got := rows(t, eng, `SELECT name, dept, salary, rank() OVER (PARTITION BY dept ORDER BY salary DESC) AS r,
       sum(salary) OVER (PARTITION BY dept) AS dept_total FROM emp ORDER BY name`)
	want := []string{"ann|eng|100|1|180", "bob|eng|80|2|180", "cid|ops|50|1|50", "dee|NULL|70|1|70"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q\nwant %q", got, want)
	}
}
