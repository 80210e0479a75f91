package server

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/streamsql/streamsql/internal/testdb"
)

const copyTable = "CREATE TABLE ct (k BIGINT, s VARCHAR, x DOUBLE PRECISION, d DATE, at TIMESTAMP, ok BOOLEAN, n NUMERIC(10,2))"

// copyFiles are the client-side files the psql script copies from.
var copyFiles = map[string]string{
	"in.csv": "k,s,x,d,at,ok,n\n" +
		"1,plain,1.5,2024-01-02,2024-01-02 10:00:00,true,1.25\n" +
		"2,\"with, comma\",-2,2024-02-03,2024-02-03 11:30:00.5,f,-3.10\n" +
		"3,\"multi\nline \"\"quoted\"\"\",,,,,\n" +
		"4,\"\",0,2024-03-04,2024-03-04 00:00:00,t,0\n",
	"in.txt": "5\ttab\\tand\\\\backslash\t2.5\t2024-05-06\t2024-05-06 07:08:09\tt\t9.99\n" +
		"6\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n" +
		"\\.\n",
	"in2.txt": "7|seven\n8|NULL\n",
}

// copyScript exercises \copy both ways; run by psql against streamsql and PostgreSQL.
const copyScript = copyTable + `;
\copy ct from 'in.csv' with (format csv, header)
\copy ct from 'in.txt'
\copy ct (k, s) from 'in2.txt' with (delimiter '|', null 'NULL')
\copy ct to 'out.txt'
\copy (SELECT k, s, n FROM ct WHERE k < 5 ORDER BY k) to 'out.csv' with csv header
\copy ct (k, s) to 'out2.txt' with (format csv, delimiter ';', null 'NIL', force_quote (s))
SELECT count(*) FROM ct;
`

func runPsqlCopy(t *testing.T, psql, connURL string) (string, map[string]string) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range copyFiles {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", connURL, "-f", "-")
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(copyScript)
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=5")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	files := map[string]string{}
	for _, name := range []string{"out.txt", "out.csv", "out2.txt"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = string(b)
	}
	return string(out), files
}

// TestPsqlCopyMatchesPostgres: psql's \copy from and to files (text, CSV with header, quotes,
// embedded newlines, escapes, NULL options, a column list, a query) gives PostgreSQL's files.
func TestPsqlCopyMatchesPostgres(t *testing.T) {
	psql := psqlPath(t)
	ts := startServer(t, Config{})
	pgURL := testdb.Postgres(t)
	// A fresh schema on PostgreSQL so the table name is free.
	ctx := context.Background()
	pg, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close(ctx)
	mustExec(t, pg, "DROP SCHEMA IF EXISTS wire_copy CASCADE")
	mustExec(t, pg, "CREATE SCHEMA wire_copy")
	defer pg.Exec(ctx, "DROP SCHEMA wire_copy CASCADE")
	u, _ := url.Parse(pgURL)
	u.RawQuery += "&options=" + strings.ReplaceAll(url.PathEscape("-c search_path=wire_copy"), "=", "%3D")

	gotOut, got := runPsqlCopy(t, psql, ts.url(""))
	wantOut, want := runPsqlCopy(t, psql, u.String())
	if gotOut != wantOut {
		t.Errorf("psql output:\n%s\nPostgreSQL:\n%s", gotOut, wantOut)
	}
	for name := range want {
		if got[name] != want[name] {
			t.Errorf("%s:\n%s\nPostgreSQL:\n%s", name, got[name], want[name])
		}
	}
	if !strings.Contains(got["out.txt"], "multi\\nline \"quoted\"") {
		t.Errorf("out.txt lacks the escaped multi-line value:\n%s", got["out.txt"])
	}
}

// TestCopyBadRowsInsertNothing: a bad row fails the whole COPY with its line number and the
// SQLSTATE PostgreSQL uses; nothing is inserted.
func TestCopyBadRowsInsertNothing(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	c := connect(t, ts.url(""))
	mustExec(t, c, "CREATE TABLE bad (k BIGINT, s VARCHAR)")
	for _, tc := range []struct{ copy, data, code, msg string }{
		{"COPY bad FROM STDIN", "1\ta\n2\tb\textra\n", "22P04", "line 2: extra data after last expected column"},
		{"COPY bad FROM STDIN", "1\ta\n2\n", "22P04", `line 2: missing data for column "s"`},
		{"COPY bad FROM STDIN (FORMAT csv)", "1,a\n2,b\nx,c\n", "22P02", "line 3, column k"},
		{"COPY bad FROM STDIN (FORMAT csv)", "1,\"open\n", "22P04", "line 1: unterminated CSV quoted field"},
		{"COPY bad FROM STDIN (FORMAT csv, HEADER match)", "k,t\n1,a\n", "22P04", "column name mismatch"},
		{"COPY bad FROM STDIN", "1\t\xff\n", "22021", "line 1: invalid byte sequence"},
		{"COPY nope FROM STDIN", "", "42P01", `relation "nope" does not exist`},
		{"COPY bad (k, zz) FROM STDIN", "", "42703", `column "zz" does not exist`},
		{"COPY bad FROM '/etc/passwd'", "", "0A000", "not supported"},
		{"COPY bad FROM STDIN (FORMAT xml)", "", "22023", "not recognized"},
	} {
		_, err := c.PgConn().CopyFrom(ctx, strings.NewReader(tc.data), tc.copy)
		if pgCode(err) != tc.code || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s with %q: %v; want %s %q", tc.copy, tc.data, err, tc.code, tc.msg)
		}
	}
	var n int64
	if err := c.QueryRow(ctx, "SELECT count(*) FROM bad").Scan(&n); err != nil || n != 0 {
		t.Fatalf("rows after failed COPYs: %d, %v", n, err)
	}
	// The connection still works, and a good COPY goes in.
	if tag, err := c.PgConn().CopyFrom(ctx, strings.NewReader("1\ta\n2\t\\N\n"), "COPY bad FROM STDIN"); err != nil || tag.String() != "COPY 2" {
		t.Fatalf("good COPY: %v %v", tag, err)
	}
}

// TestPgxCopyFrom: pgx's CopyFrom (binary format) into a table, compared with PostgreSQL, and into
// a push source that a materialized view reads.
func TestPgxCopyFrom(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	c := connect(t, ts.url(""))
	pg, err := pgx.Connect(ctx, testdb.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close(ctx)
	at := time.Date(2024, 5, 6, 7, 8, 9, 123000000, time.UTC)
	rows := [][]any{
		{int64(1), "one", 1.5, at, at, true, "1.25", 90 * time.Second},
		{int64(2), "zwei ü", nil, nil, nil, nil, nil, nil},
		{int64(3), "", -0.25, at.AddDate(0, 0, 1), at.Add(time.Hour), false, "-7.5", time.Millisecond},
	}
	cols := []string{"k", "s", "x", "d", "at", "ok", "n", "iv"}
	read := func(conn *pgx.Conn, table string) []string {
		mustExec(t, conn, "CREATE TABLE "+table+" (k BIGINT, s VARCHAR, x DOUBLE PRECISION, d DATE, at TIMESTAMP, ok BOOLEAN, n NUMERIC(10,2), iv INTERVAL)")
		n, err := conn.CopyFrom(ctx, pgx.Identifier(strings.Split(table, ".")), cols, pgx.CopyFromRows(rows))
		if err != nil || n != 3 {
			t.Fatalf("CopyFrom into %s: %d, %v", table, n, err)
		}
		res, err := conn.Query(ctx, "SELECT k, s, x, d, at, ok, n, iv FROM "+table+" ORDER BY k", pgx.QueryExecModeSimpleProtocol)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for res.Next() {
			vals := res.RawValues()
			var parts []string
			for _, v := range vals {
				parts = append(parts, string(v))
			}
			out = append(out, strings.Join(parts, "|"))
		}
		if err := res.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	got := read(c, "cp")
	want := read(pg, "pg_temp.cp")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("streamsql:\n%s\nPostgreSQL:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// A push source: the copied rows reach a continuous query.
	mustExec(t, c, "CREATE SOURCE ev (k VARCHAR, v BIGINT) WITH (connector = 'push')")
	mustExec(t, c, "CREATE MATERIALIZED VIEW evsum WITH (trigger = 'manual') AS SELECT k, SUM(v) AS s FROM ev GROUP BY k")
	if _, err := c.CopyFrom(ctx, pgx.Identifier{"ev"}, []string{"k", "v"}, pgx.CopyFromRows([][]any{{"a", int64(1)}, {"b", int64(2)}, {"a", int64(3)}})); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PgConn().CopyFrom(ctx, strings.NewReader("b,10\n"), "COPY ev FROM STDIN (FORMAT csv)"); err != nil {
		t.Fatal(err)
	}
	if err := ts.eng.ProcessAllAvailable(ctx, "evsum"); err != nil {
		t.Fatal(err)
	}
	var sums []string
	r, err := c.Query(ctx, "SELECT k, s FROM evsum ORDER BY k")
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var k string
		var s int64
		if err := r.Scan(&k, &s); err != nil {
			t.Fatal(err)
		}
		sums = append(sums, k+"="+strconv.FormatInt(s, 10))
	}
	if strings.Join(sums, ",") != "a=4,b=12" {
		t.Fatalf("view over the copied source: %v", sums)
	}
	// A view cannot take rows.
	if _, err := c.PgConn().CopyFrom(ctx, strings.NewReader("a,1\n"), "COPY evsum FROM STDIN (FORMAT csv)"); pgCode(err) != "42809" {
		t.Fatalf("COPY into a view: %v", err)
	}
}

// TestCopyToStdoutQuery: COPY (query) TO STDOUT through pgx, and COPY in a transaction block.
func TestCopyToStdoutQuery(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	c := connect(t, ts.url(""))
	mustExec(t, c, "CREATE TABLE q (k BIGINT, s VARCHAR)")
	mustExec(t, c, "INSERT INTO q VALUES (1, 'a\tb'), (2, NULL)")
	var sb strings.Builder
	tag, err := c.PgConn().CopyTo(ctx, &sb, "COPY (SELECT k, s FROM q ORDER BY k) TO STDOUT")
	if err != nil || tag.String() != "COPY 2" || sb.String() != "1\ta\\tb\n2\t\\N\n" {
		t.Fatalf("COPY TO: %v %v %q", tag, err, sb.String())
	}
	mustExec(t, c, "BEGIN")
	if _, err := c.PgConn().CopyFrom(ctx, strings.NewReader("3\tc\n"), "COPY q FROM STDIN"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "ROLLBACK"); pgCode(err) != "0A000" {
		t.Fatalf("ROLLBACK after COPY: %v", err)
	}
}
