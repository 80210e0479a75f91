package sql_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/streamsql/streamsql/sql"
)

// errorsFixture adds a second table with a shared column name to the rewrite fixture, for
// ambiguity and correlation errors.
const errorsFixture = rewriteFixture + `
CREATE TABLE u (a BIGINT, v VARCHAR);
INSERT INTO u VALUES (1, 'x');
`

// TestErrorPositions checks line, column and caret of syntax and binding errors, in single
// statements and in later statements of a script (where positions refer to the whole script).
func TestErrorPositions(t *testing.T) {
	eng := newEngine(t, errorsFixture)
	cases := []struct {
		script    string
		line, col int    // 1-based, in the whole script
		token     string // the text the caret points at
		msg       string
	}{
		{"SELECT a,\n  s\nFROM t\nWHERE a = = 1", 4, 11, "=", `unexpected "="`},
		{"SELECT a\nFROM t\nWHERE a IN (1, 2", 3, 17, "", "unexpected end of statement"},
		{"SELECT 1;\nSELECT a\n  FROM t WHERE a = 1 1;", 3, 22, "1", `unexpected "1"`},
		{"SELECT 1;\n\nSELECT a FROM t\n  ORDER BY a LIMIT", 4, 19, "", "unexpected end of statement"},
		{"SELECT 1; SELECT aa FROM t", 1, 18, "aa", `column "aa" does not exist; did you mean "a"?`},
		{"SELECT 1;\nSELECT a\nFROM tt", 3, 6, "tt", `table "tt" does not exist; did you mean "t"?`},
		{"SELECT\n  t.ss\nFROM t", 2, 5, "ss", `column "t.ss" does not exist; did you mean "s"?`},
		{"SELECT x.a FROM t", 1, 10, "a", `missing FROM-clause entry for table "x"`},
		{"SELECT 1;\nSELECT 'open", 2, 8, "'open", "unterminated string literal"},
		{"SELECT 1 /* never\nclosed", 1, 10, "/*", "unterminated /* comment"},
		{"SELECT \"Oops FROM t", 1, 8, `"Oops`, "unterminated quoted identifier"},
		{"SELECT a\nFROM t\nORDER BY 3", 3, 10, "3", "ORDER BY position 3 is not in select list"},
		{"SELECT a FROM t\nLIMIT -1", 2, 1, "LIMIT", "LIMIT must not be negative"},
		{"SELECT a::\nFROM t", 2, 1, "FROM", `unexpected "FROM"`},
		{"SELECT 1;\nSELECT a FROM t WHERE s SIMILAR TO 'x'", 2, 25, "SIMILAR", "SIMILAR TO is not supported"},
		{"SELECT 1;\nSELECT a FROM t\n  NATURAL JOIN u", 3, 3, "NATURAL", "NATURAL JOIN is not supported"},
		{"SELECT 1;\nSELECT a\n  + s FROM t", 3, 3, "+", "operator does not exist: BIGINT + VARCHAR"},
		{"SELECT a FROM t\nWHERE s <> 1", 2, 9, "<>", "cannot compare VARCHAR with BIGINT"},
		{"SELECT a FROM t WHERE a = 'x' OR\n s < 'y'", 1, 25, "=", `invalid input syntax for type bigint: "x"`},
		{"WITH c AS (SELECT aa FROM t) SELECT * FROM c", 1, 19, "aa", `column "aa" does not exist`},
		{"WITH c AS (SELECT a FROM t WHERE a = = 1) SELECT * FROM c", 1, 38, "=", `unexpected "="`},
		{"SELECT 1;\nSELECT * FROM (SELECT a FROM t WHERE a = = 1) x", 2, 42, "=", `unexpected "="`},
	}
	for _, c := range cases {
		_, err := eng.Exec(context.Background(), c.script)
		var se *sql.Error
		if !errors.As(err, &se) {
			t.Errorf("%q: got %v (%T), want a *sql.Error", c.script, err, err)
			continue
		}
		if !strings.Contains(se.Msg, c.msg) {
			t.Errorf("%q: message %q, want it to contain %q", c.script, se.Msg, c.msg)
		}
		line, col, text := se.Location()
		if line != c.line || col != c.col {
			t.Errorf("%q: at line %d column %d, want line %d column %d\n%v", c.script, line, col, c.line, c.col, err)
			continue
		}
		if se.Source != c.script {
			t.Errorf("%q: error source is %q, want the whole script", c.script, se.Source)
		}
		if c.token != "" && !strings.HasPrefix(c.script[se.Pos:], c.token) {
			t.Errorf("%q: position points at %q, want %q", c.script, c.script[se.Pos:], c.token)
		}
		// The rendered message shows the line and a caret under column col.
		lines := strings.Split(err.Error(), "\n")
		if len(lines) != 3 || strings.TrimSpace(lines[1]) != strings.TrimSpace(text) || len(lines[2]) != 2+col {
			t.Errorf("%q: rendered error does not put the caret under column %d:\n%s", c.script, col, err)
		}
	}
}

// TestCaretWithTabs keeps tabs in the caret line so it lines up in a terminal.
func TestCaretWithTabs(t *testing.T) {
	e := &sql.Error{Msg: "boom", Source: "SELECT\n\ta\t= = 1", Pos: 12, Kind: "syntax error"}
	want := "syntax error at line 2, column 6: boom\n  \ta\t= = 1\n  \t \t  ^"
	if e.Error() != want {
		t.Errorf("got\n%q\nwant\n%q", e.Error(), want)
	}
}

// TestBindErrors checks the message of errors found while binding: each names what is wrong
// (both types of a type error, the column, the clause) like PostgreSQL does.
func TestBindErrors(t *testing.T) {
	eng := newEngine(t, errorsFixture)
	cases := []struct {
		q    string
		want []string // every fragment must appear
	}{
		// types: PostgreSQL names both operand types ("operator does not exist: boolean + integer")
		// a quoted literal takes the other operand's type, as in PostgreSQL ("invalid input
		// syntax for type integer: \"a\""); a VARCHAR column does not
		{`SELECT 1 + 'a'`, []string{`invalid input syntax for type bigint: "a"`}},
		{`SELECT TRUE + 1`, []string{"operator does not exist", "BOOLEAN", "BIGINT"}},
		{`SELECT 'a' = 1`, []string{`invalid input syntax for type bigint: "a"`}},
		{`SELECT a + s FROM t`, []string{"BIGINT", "VARCHAR"}},
		{`SELECT a FROM t WHERE 1`, []string{"argument of WHERE must be type BOOLEAN, not type BIGINT"}},
		{`SELECT a FROM t WHERE s`, []string{"argument of WHERE must be type BOOLEAN, not type VARCHAR"}},
		{`SELECT count(*) FROM t HAVING 1`, []string{"argument of HAVING must be type BOOLEAN"}},
		{`SELECT * FROM t JOIN u ON t.a`, []string{"argument of JOIN/ON must be type BOOLEAN"}},
		{`SELECT sum(s) FROM t`, []string{"sum", "VARCHAR"}},
		{`SELECT upper(a) FROM t`, []string{"upper", "BIGINT"}},
		{`SELECT CASE WHEN a = 1 THEN 'x' ELSE 2 END FROM t`, []string{"CASE types", "VARCHAR", "BIGINT"}},
		{`SELECT a FROM t UNION ALL SELECT s FROM t`, []string{"UNION types", "BIGINT", "VARCHAR"}},
		{`SELECT a, s FROM t UNION ALL SELECT a FROM t`, []string{"same number of columns"}},
		// names
		{`SELECT aa FROM t`, []string{`column "aa" does not exist`, `did you mean "a"?`}},
		{`SELECT a FROM tt`, []string{`table "tt" does not exist`, `did you mean "t"?`}},
		{`SELECT a FROM nothing_like_it`, []string{`table "nothing_like_it" does not exist`}},
		{`SELECT uper(s) FROM t`, []string{"function uper does not exist", "did you mean upper?"}},
		{`SELECT "name" FROM "Mixed"`, []string{`column "name" does not exist`, `did you mean "Name"?`}},
		{`SELECT a FROM t, u`, []string{`column reference "a" is ambiguous`}},
		{`SELECT a FROM t JOIN u ON t.a = u.a`, []string{`column reference "a" is ambiguous`}},
		{`SELECT * FROM t JOIN u USING (s)`, []string{`column "s" does not exist`}},
		// grouping
		{`SELECT a, s, count(*) FROM t GROUP BY a`, []string{`column "s" must appear in the GROUP BY clause or be used in an aggregate function`}},
		{`SELECT s FROM t GROUP BY a`, []string{`column "s" must appear in the GROUP BY clause`}},
		{`SELECT a, count(*) FROM t GROUP BY a ORDER BY s`, []string{`column "s" must appear in the GROUP BY clause`}},
		{`SELECT count(*) FROM t HAVING a > 1`, []string{`column "a" must appear in the GROUP BY clause`}},
		{`SELECT a FROM t WHERE count(*) > 1`, []string{"aggregate function count is not allowed here"}},
		{`SELECT a FROM t GROUP BY count(*)`, []string{"aggregate function count is not allowed here"}},
		{`SELECT sum(count(*)) FROM t`, []string{"aggregate function count is not allowed here"}},
		{`SELECT count(*) AS n FROM t GROUP BY 1`, []string{"aggregate functions are not allowed in GROUP BY"}},
		{`SELECT a FROM t GROUP BY 2`, []string{"GROUP BY position 2 is not in select list"}},
		{`SELECT sum(*) FROM t`, []string{"sum(*) is not valid"}},
		// ORDER BY / LIMIT
		{`SELECT a FROM t ORDER BY 3`, []string{"ORDER BY position 3 is not in select list"}},
		{`SELECT a FROM t ORDER BY 0`, []string{"ORDER BY position 0 is not in select list"}},
		{`SELECT DISTINCT a FROM t ORDER BY s`, []string{"for SELECT DISTINCT, ORDER BY expressions must appear in select list"}},
		{`SELECT a FROM t LIMIT -1`, []string{"LIMIT must not be negative"}},
		{`SELECT a FROM t OFFSET -1`, []string{"OFFSET must not be negative"}},
		{`SELECT a FROM t LIMIT 'x'`, []string{"LIMIT must be an integer constant"}},
		{`SELECT a FROM t LIMIT a`, []string{"LIMIT must be an integer constant"}},
		// subqueries
		{`SELECT (SELECT a, v FROM u) FROM t`, []string{"subquery must return only one column"}},
		// statements
		{`UPDATE t SET a = 1 RETURNING a`, []string{"RETURNING is not supported"}},
		{`FROB t`, []string{`unknown statement "FROB"`}},
	}
	for _, c := range cases {
		_, err := queryRows(eng, c.q)
		if err == nil {
			t.Errorf("%s: no error, want %q", c.q, c.want)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s:\n got %v\nwant it to contain %q", c.q, err, w)
			}
		}
		if strings.Contains(err.Error(), "internal error") {
			t.Errorf("%s: internal error: %v", c.q, err)
		}
	}
}

// TestPositionlessErrorText: an error without a position prints its message alone (a client
// prefixes "ERROR: "; the old "error: " prefix doubled the word), a syntax error keeps its kind.
func TestPositionlessErrorText(t *testing.T) {
	if got := (&sql.Error{Msg: "table \"t\" does not exist", Pos: -1}).Error(); got != `table "t" does not exist` {
		t.Errorf("plain error: %q", got)
	}
	if got := (&sql.Error{Msg: "unexpected end", Pos: -1, Kind: "syntax error"}).Error(); got != "syntax error: unexpected end" {
		t.Errorf("syntax error: %q", got)
	}
}
