package server

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/streamsql/streamsql/internal/testdb"
)

// arrayQueries run against a table a (k BIGINT, s VARCHAR, f DOUBLE) with one array parameter.
var arrayQueries = []struct {
	sql string
	arg any
}{
	{"SELECT k FROM a WHERE k = ANY($1) ORDER BY k", []int64{1, 3, 99}},
	{"SELECT k FROM a WHERE k <> ALL($1) ORDER BY k", []int64{1}},
	{"SELECT k FROM a WHERE s = ANY($1) ORDER BY k", []string{"y", "it's", "z"}},
	{"SELECT k FROM a WHERE s <> ALL($1) ORDER BY k", []string{"x"}},
	{"SELECT k FROM a WHERE f = ANY($1) ORDER BY k", []float64{2.5, 3.5}},
	{"SELECT k FROM a WHERE k = ANY($1) ORDER BY k", []int64{}},
	{"SELECT k FROM a WHERE k <> ALL($1) ORDER BY k", []int64{}},
	{"SELECT k FROM a WHERE s = ANY($1) ORDER BY k", []*string{nil, ptr("x")}},
	{"SELECT k FROM a WHERE k = ANY($1) ORDER BY k", []int64(nil)},
	{"SELECT k FROM a WHERE k > ALL($1) ORDER BY k", []int64{0, 1}},
}

func ptr[T any](v T) *T { return &v }

func runArrayQueries(t *testing.T, c *pgx.Conn, mode pgx.QueryExecMode) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	for _, q := range arrayQueries {
		rows, err := c.Query(ctx, q.sql, mode, q.arg)
		if err != nil {
			t.Fatalf("%s %v (%v): %v", q.sql, q.arg, mode, err)
		}
		ks, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			t.Fatalf("%s %v (%v): %v", q.sql, q.arg, mode, err)
		}
		out = append(out, fmt.Sprintf("%s %v: %v", q.sql, q.arg, ks))
	}
	return out
}

// TestArrayParametersMatchPostgres: = ANY($1) / <> ALL($1) with the arrays pgx sends (binary in
// the extended protocol, text literals in the simple protocol) give PostgreSQL's rows.
func TestArrayParametersMatchPostgres(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	pg, err := pgx.Connect(ctx, testdb.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close(ctx)
	c := connect(t, ts.url(""))
	for _, conn := range []*pgx.Conn{c, pg} {
		table := "a"
		if conn == pg {
			table = "pg_temp.a"
		}
		mustExec(t, conn, "CREATE TABLE "+table+" (k BIGINT, s VARCHAR, f DOUBLE PRECISION)")
		mustExec(t, conn, "INSERT INTO "+table+" VALUES (1, 'x', 1.5), (2, 'y', 2.5), (3, 'z', 3.5), (4, 'it''s', 4.5)")
	}
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol} {
		got := runArrayQueries(t, c, mode)
		want := runArrayQueries(t, pg, mode)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%v:\nstreamsql:\n%s\nPostgreSQL:\n%s", mode, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	// Text-format arrays with declared types, as node-postgres sends them, and a bad one.
	pc := c.PgConn()
	res := pc.ExecParams(ctx, "SELECT k FROM a WHERE s = ANY($1) ORDER BY k", [][]byte{[]byte(`{"x","it's",NULL,"a\"b"}`)}, []uint32{1009}, nil, nil).Read()
	if res.Err != nil || len(res.Rows) != 2 || string(res.Rows[0][0]) != "1" || string(res.Rows[1][0]) != "4" {
		t.Fatalf("text[] in text format: %v %q", res.Err, res.Rows)
	}
	res = pc.ExecParams(ctx, "SELECT k FROM a WHERE k = ANY($1)", [][]byte{[]byte(`{1,x}`)}, []uint32{1016}, nil, nil).Read()
	if pgCode(res.Err) != "22P02" {
		t.Fatalf("bad int8[]: %v", res.Err)
	}
	_ = pgconn.CommandTag{}
}
