package sql

import (
	"reflect"
	"strings"
	"testing"

	"github.com/streamsql/streamsql/exec"
)

// TestParseCreateTable checks the statement parser's CREATE TABLE: types with their aliases and
// parameters, constraints accepted and ignored, options with dotted keys and any value form.
func TestParseCreateTable(t *testing.T) {
	st, err := Parse(`create table if not exists "Orders" (
		id BIGINT NOT NULL PRIMARY KEY, "Amount" DECIMAL(10, 2) NULL, price double precision,
		name character varying(20), note TEXT, ok bool, at timestamp, day DATE, span INTERVAL
	) WITH (connector = 'file', Path = '/tmp/x.csv', kafka.bootstrap.servers = 'h:9092', header = true, batch_size = 10)`)
	if err != nil {
		t.Fatal(err)
	}
	ct, ok := st.(*CreateTable)
	if !ok {
		t.Fatalf("got %T", st)
	}
	if ct.Name != "Orders" || !ct.IfNotExists {
		t.Errorf("name %q ifNotExists %v", ct.Name, ct.IfNotExists)
	}
	wantCols := []string{"id BIGINT", "Amount DECIMAL(10,2)", "price DOUBLE", "name VARCHAR", "note VARCHAR",
		"ok BOOLEAN", "at TIMESTAMP", "day DATE", "span INTERVAL"}
	var gotCols []string
	for _, c := range ct.Columns {
		gotCols = append(gotCols, c.Name+" "+exec.TypeName(c.Type))
	}
	if !reflect.DeepEqual(gotCols, wantCols) {
		t.Errorf("columns %q\nwant %q", gotCols, wantCols)
	}
	wantOpts := []Option{{Key: "connector", Value: "file"}, {Key: "path", Value: "/tmp/x.csv"},
		{Key: "kafka.bootstrap.servers", Value: "h:9092"}, {Key: "header", Value: "true"}, {Key: "batch_size", Value: "10"}}
	if len(ct.Options) != len(wantOpts) {
		t.Fatalf("options %+v", ct.Options)
	}
	for i, o := range ct.Options {
		if o.Key != wantOpts[i].Key || o.Value != wantOpts[i].Value {
			t.Errorf("option %d: %q = %q, want %q = %q", i, o.Key, o.Value, wantOpts[i].Key, wantOpts[i].Value)
		}
	}
	if v, ok := ct.Option("path"); !ok || v != "/tmp/x.csv" {
		t.Errorf("Option(path) = %q, %v", v, ok)
	}
}

// TestParseSimpleStatements covers the statements parsed without the library.
func TestParseSimpleStatements(t *testing.T) {
	cases := []struct {
		src  string
		want Stmt
	}{
		{"DROP TABLE t", &Drop{Kind: KindTable, Name: "t"}},
		{"drop table if exists \"T\"", &Drop{Kind: KindTable, Name: "T", IfExists: true}},
		{"SHOW TABLES", &Show{Kind: KindTable}},
		{"show columns from Tab", &Describe{Name: "tab", Pos: 18}},
		{"SHOW COLUMNS IN t", &Describe{Name: "t", Pos: 16}},
		{"DESCRIBE t", &Describe{Name: "t", Pos: 9}},
		{"describe table t", &Describe{Name: "t", Pos: 15}},
		{"DESC t", &Describe{Name: "t", Pos: 5}},
	}
	for _, c := range cases {
		got, err := Parse(c.src)
		if err != nil {
			t.Errorf("%s: %v", c.src, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %#v want %#v", c.src, got, c.want)
		}
	}
}

// TestParseQueries checks SELECT, WITH, EXPLAIN and INSERT reach the library and keep their parts.
func TestParseQueries(t *testing.T) {
	st, err := Parse("WITH a AS (SELECT 1 AS x), b (y, z) AS (SELECT x, x FROM a) SELECT * FROM b")
	if err != nil {
		t.Fatal(err)
	}
	q := st.(*Query)
	if len(q.With) != 2 || q.With[0].Name != "a" || q.With[1].Name != "b" || !reflect.DeepEqual(q.With[1].Columns, []string{"y", "z"}) {
		t.Errorf("CTEs %+v", q.With)
	}
	if q.body == nil || q.With[0].Body.body == nil {
		t.Errorf("query bodies not parsed")
	}
	st, err = Parse("EXPLAIN SELECT a FROM t WHERE a > 1")
	if err != nil {
		t.Fatal(err)
	}
	if ex, ok := st.(*Explain); !ok || ex.Query == nil || ex.Query.body == nil {
		t.Errorf("EXPLAIN parsed as %#v", st)
	}
	st, err = Parse("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')")
	if err != nil {
		t.Fatal(err)
	}
	ins := st.(*Insert)
	if ins.Table != "t" || !reflect.DeepEqual(ins.Columns, []string{"a", "b"}) || len(ins.rows) != 2 || ins.Query != nil {
		t.Errorf("INSERT parsed as %+v", ins)
	}
	st, err = Parse("insert into T select * from u")
	if err != nil {
		t.Fatal(err)
	}
	if ins := st.(*Insert); ins.Table != "t" || ins.Query == nil {
		t.Errorf("INSERT SELECT parsed as %+v", ins)
	}
	for _, src := range []string{"(SELECT 1)", "select 1 union all select 2", "SELECT 1 FROM dual"} {
		if st, err := Parse(src); err != nil {
			t.Errorf("%s: %v", src, err)
		} else if _, ok := st.(*Query); !ok {
			t.Errorf("%s: parsed as %T", src, st)
		}
	}
}

// TestParseErrors checks the statement parser's messages and positions.
func TestParseErrors(t *testing.T) {
	cases := []struct {
		src string
		pos int // byte offset of the caret
		msg string
	}{
		{"", 0, "empty statement"},
		{"CREATE VIEW v", 13, "expected AS, found end of statement"},
		{"CREATE TABLE t (a BIGINT, a VARCHAR)", 26, `column "a" specified more than once`},
		{"CREATE TABLE t (a NOSUCH)", 18, `unknown type "NOSUCH"`},
		{"CREATE TABLE t (a DECIMAL(x))", 26, "expected a number in the type's parameters"},
		{"CREATE TABLE t (a DECIMAL(50, 2))", 18, "DECIMAL(50,2) is out of range"},
		{"CREATE TABLE t (a BIGINT", 24, "expected ')', found end of statement"},
		{"CREATE TABLE t (a BIGINT) WITH (path = 'x', path = 'y')", 44, `option "path" given twice`},
		{"CREATE TABLE t (a BIGINT) WITH (path 'x')", 37, "expected '='"},
		{"CREATE TABLE t (a BIGINT) WITH (path = 'x'", 42, "expected ')'"},
		{"CREATE TABLE t (a BIGINT) extra", 26, "expected end of statement"},
		{"CREATE TABLE IF EXISTS t (a BIGINT)", 16, "expected NOT"},
		{"DROP t", 5, "expected TABLE, SOURCE, SINK, VIEW or MATERIALIZED VIEW after DROP"},
		{"DROP TABLE t u", 13, "expected end of statement"},
		{"SHOW STUFF", 5, "expected TABLES, SOURCES, SINKS, VIEWS, MATERIALIZED VIEWS, QUERIES or COLUMNS after SHOW"},
		{"DESCRIBE", 8, "expected a table name, found end of statement"},
		{"WITH RECURSIVE r AS (SELECT 1) SELECT * FROM r", 5, "WITH RECURSIVE is not supported"},
		// PostgreSQL's grammar reports where it first cannot continue.
		{"WITH c AS (SELECT 1 SELECT * FROM c", 27, `unexpected "*"`},
		{"WITH c SELECT 1", 7, `unexpected "SELECT"`},
		{"CREATE TABLE t (a BIGINT) WITH (path = 'unterminated)", 39, "unterminated string literal"},
	}
	for _, c := range cases {
		_, err := Parse(c.src)
		e, ok := err.(*Error)
		if !ok {
			t.Errorf("%q: got %v (%T), want *Error", c.src, err, err)
			continue
		}
		if !strings.Contains(e.Msg, c.msg) {
			t.Errorf("%q: message %q, want it to contain %q", c.src, e.Msg, c.msg)
		}
		if e.Pos != c.pos {
			t.Errorf("%q: position %d, want %d\n%v", c.src, e.Pos, c.pos, e)
		}
	}
}

// TestLex checks token kinds, decoded values and positions, including the PostgreSQL string
// rules (backslash literal, ” is a quote) and unterminated tokens.
func TestLex(t *testing.T) {
	type tok struct {
		kind     TokKind
		text     string
		val      string
		pos, end int
	}
	src := `a.b::int <> 'it''s\' "Q""x" 1.5e3 .5 -- c` + "\n" + `/* x */ ||`
	want := []tok{
		{TokIdent, "a", "", 0, 1}, {TokOp, ".", "", 1, 2}, {TokIdent, "b", "", 2, 3}, {TokOp, "::", "", 3, 5},
		{TokIdent, "int", "", 5, 8}, {TokOp, "<>", "", 9, 11}, {TokString, `'it''s\'`, `it's\`, 12, 20},
		{TokQIdent, `"Q""x"`, `Q"x`, 21, 27}, {TokNumber, "1.5e3", "", 28, 33}, {TokNumber, ".5", "", 34, 36},
		{TokOp, "||", "", 50, 52}, {TokEOF, "", "", 52, 52},
	}
	var got []tok
	for _, t := range Lex(src) {
		got = append(got, tok{t.Kind, t.Text, t.Val, t.Pos, t.End})
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Lex:\n got %+v\nwant %+v", got, want)
	}
	for src, msg := range map[string]string{
		"'abc": "unterminated string literal", `"abc`: "unterminated quoted identifier",
		"`abc": "unterminated quoted identifier", "/* abc": "unterminated /* comment",
		"'it''": "unterminated string literal",
	} {
		toks := Lex("x " + src)
		if len(toks) != 3 || toks[1].Kind != TokError || toks[1].Val != msg || toks[1].Pos != 2 {
			t.Errorf("Lex(%q) = %+v, want a TokError %q at 2", src, toks, msg)
		}
	}
}
