package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/streamsql/streamsql"
)

// testServer is a server on 127.0.0.1:0 over a fresh engine, closed with the test.
type testServer struct {
	srv  *Server
	eng  *streamsql.Engine
	addr string
}

func startServer(t *testing.T, cfg Config) *testServer {
	return startServerWith(t, cfg, streamsql.Options{})
}

// startServerWith is startServer with engine options.
func startServerWith(t *testing.T, cfg Config, opts streamsql.Options) *testServer {
	t.Helper()
	eng, err := streamsql.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Engine = eng
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		eng.Close()
	})
	return &testServer{srv: srv, eng: eng, addr: l.Addr().String()}
}

func (ts *testServer) url(extra string) string {
	u := "postgres://tester@" + ts.addr + "/db?sslmode=disable"
	if extra != "" {
		u += "&" + extra
	}
	return u
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

var modes = []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeDescribeExec, pgx.QueryExecModeSimpleProtocol}

func TestTablesOverBothProtocols(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	c := connect(t, ts.url(""))
	if _, err := c.Exec(ctx, `CREATE TABLE t (id BIGINT, name VARCHAR, price DECIMAL(10,2), x DOUBLE, ok BOOLEAN, ts TIMESTAMP, d DATE, iv INTERVAL)`); err != nil {
		t.Fatal(err)
	}
	tag, err := c.Exec(ctx, `INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		int64(1), "it's", "12.50", 2.5, true, time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC), time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
		pgtype.Interval{Microseconds: 5400e6, Days: 1, Valid: true})
	if err != nil {
		t.Fatal(err)
	}
	if tag.String() != "INSERT 0 1" {
		t.Fatalf("tag %q", tag)
	}
	if _, err := c.Exec(ctx, `INSERT INTO t (id, name) VALUES (2, NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			var (
				id    int64
				name  *string
				price pgtype.Numeric
				x     *float64
				ok    *bool
				tsv   pgtype.Timestamp
				d     pgtype.Date
				iv    pgtype.Interval
			)
			err := c.QueryRow(ctx, `SELECT id, name, price, x, ok, ts, d, iv FROM t WHERE name = $1`, mode, "it's").Scan(&id, &name, &price, &x, &ok, &tsv, &d, &iv)
			if err != nil {
				t.Fatal(err)
			}
			pv, _ := price.Value()
			if id != 1 || *name != "it's" || pv != "12.50" || *x != 2.5 || !*ok ||
				!tsv.Time.Equal(time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC)) || d.Time.Format("2006-01-02") != "2024-05-01" ||
				iv.Days != 1 || iv.Microseconds != 5400e6 {
				t.Fatalf("got %d %q %v %v %v %v %v %+v", id, *name, pv, *x, *ok, tsv.Time, d.Time, iv)
			}
			// NULLs and a string parameter compared with a VARCHAR column.
			var got []string
			rows, err := c.Query(ctx, `SELECT name FROM t WHERE name IS NULL OR name = $1 ORDER BY id`, mode, "it's")
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var s *string
				if err := rows.Scan(&s); err != nil {
					t.Fatal(err)
				}
				if s == nil {
					got = append(got, "NULL")
				} else {
					got = append(got, *s)
				}
			}
			if rows.Err() != nil || strings.Join(got, ",") != "it's,NULL" {
				t.Fatalf("rows %v err %v", got, rows.Err())
			}
			if mode == pgx.QueryExecModeSimpleProtocol {
				return // pgx quotes every argument; the engine does not coerce '2.25' to DOUBLE
			}
			// A float parameter against a DOUBLE column, LIMIT as an integer parameter.
			var n int64
			if err := c.QueryRow(ctx, `SELECT count(*) FROM t WHERE x > $1`, mode, 2.25).Scan(&n); err != nil || n != 1 {
				t.Fatalf("count %d %v", n, err)
			}
			if err := c.QueryRow(ctx, `SELECT count(*) FROM (SELECT id FROM t ORDER BY id LIMIT $1) AS s`, mode, 1).Scan(&n); err != nil || n != 1 {
				t.Fatalf("limit count %d %v", n, err)
			}
		})
	}
	// Text format for every type: what psql shows (exec.FormatValue).
	res := c.PgConn().ExecParams(ctx, `SELECT id, price, x, ok, ts, d, iv FROM t WHERE id = 1`, nil, nil, nil, []int16{0})
	r := res.Read()
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	var cells []string
	for _, v := range r.Rows[0] {
		cells = append(cells, string(v))
	}
	if want := "1|12.50|2.5|t|2024-05-01 09:30:00|2024-05-01|1 day 01:30:00"; strings.Join(cells, "|") != want {
		t.Fatalf("text cells %q, want %q", strings.Join(cells, "|"), want)
	}
	// An untyped NULL column is NULL on the wire, not the text "NULL".
	r2 := c.PgConn().ExecParams(ctx, `SELECT NULL AS n`, nil, nil, nil, nil).Read()
	if r2.Err != nil || len(r2.Rows) != 1 || r2.Rows[0][0] != nil {
		t.Fatalf("NULL column: %q %v", r2.Rows, r2.Err)
	}
	// Result OIDs.
	var oids []uint32
	for _, f := range r.FieldDescriptions {
		oids = append(oids, f.DataTypeOID)
	}
	if fmt.Sprint(oids) != fmt.Sprint([]uint32{20, 1700, 701, 16, 1114, 1082, 1186}) {
		t.Fatalf("oids %v", oids)
	}
}

func TestParameterInjectionIsInert(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	c := connect(t, ts.url(""))
	if _, err := c.Exec(ctx, `CREATE TABLE t (s VARCHAR)`); err != nil {
		t.Fatal(err)
	}
	evil := []string{`'); DROP TABLE t; --`, `a\'b`, `x' OR '1'='1`, "multi\nline", `$1`, `--`, `/*`}
	for _, v := range evil {
		if _, err := c.Exec(ctx, `INSERT INTO t VALUES ($1)`, v); err != nil {
			t.Fatalf("insert %q: %v", v, err)
		}
	}
	for _, v := range evil {
		var n int64
		if err := c.QueryRow(ctx, `SELECT count(*) FROM t WHERE s = $1`, v).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%q: count %d err %v", v, n, err)
		}
	}
	// Parameter count mismatch.
	_, err := c.Exec(ctx, `SELECT * FROM t WHERE s = $1 OR s = $2`, "a")
	if err == nil {
		t.Fatal("want an error for a missing parameter")
	}
	// A value that does not fit the parameter's type.
	if _, err := c.Exec(ctx, `CREATE TABLE n (a BIGINT)`); err != nil {
		t.Fatal(err)
	}
	_, err = c.Exec(ctx, `SELECT a FROM n WHERE a = $1::BIGINT`, "12x")
	if pgCode(err) != "22P02" {
		t.Fatalf("bad bigint: %v (code %s)", err, pgCode(err))
	}
}

func TestStreamingQueriesOutliveConnections(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	c := connect(t, ts.url(""))
	_, err := c.Exec(ctx, `CREATE SOURCE clicks (id BIGINT, kind VARCHAR) WITH (connector = 'datagen', number_of_rows = '300',
		'fields.id.kind' = 'sequence', 'fields.kind.values' = 'a,b,c', rows_per_second = 'unbounded')`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, `CREATE MATERIALIZED VIEW counts AS SELECT kind, COUNT(*) AS n FROM clicks GROUP BY kind`); err != nil {
		t.Fatal(err)
	}
	c.Close(ctx)
	// A new connection sees the view the first one created, kept up to date by the engine.
	c2 := connect(t, ts.url(""))
	deadline := time.Now().Add(10 * time.Second)
	var total int64
	for time.Now().Before(deadline) {
		if err := c2.QueryRow(ctx, `SELECT COALESCE(SUM(n), 0) FROM counts`).Scan(&total); err != nil {
			t.Fatal(err)
		}
		if total == 300 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if total != 300 {
		t.Fatalf("view total %d, want 300", total)
	}
	rows, err := c2.Query(ctx, `SHOW QUERIES`, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	names := 0
	for rows.Next() {
		vals, _ := rows.Values()
		if vals[0] == "counts" {
			names++
		}
	}
	if names != 1 {
		t.Fatalf("SHOW QUERIES lists counts %d times", names)
	}
	if _, err := c2.Exec(ctx, `DROP MATERIALIZED VIEW counts`); err != nil {
		t.Fatal(err)
	}
}

func TestErrorsCarrySQLState(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	c := connect(t, ts.url(""))
	if _, err := c.Exec(ctx, `CREATE TABLE t (a BIGINT)`); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ sql, code string }{
		{`SELEC 1`, "42601"},
		{`SELECT * FROM nope`, "42P01"},
		{`SELECT b FROM t`, "42703"},
		{`SELECT nofn(a) FROM t`, "42883"},
		{`SELECT 1/0`, "22012"},
		{`SELECT CAST('x' AS BIGINT)`, "22P02"},
		{`CREATE TABLE t (a BIGINT)`, "42P07"},
		{`SELECT sum(a) OVER (ORDER BY a GROUPS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t`, "0A000"},
		{`SAVEPOINT s`, "25P01"},
	}
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol} {
		for _, tc := range cases {
			_, err := c.Exec(ctx, tc.sql, mode)
			if got := pgCode(err); got != tc.code {
				t.Errorf("%s (%v): code %q, want %s (err %v)", tc.sql, mode, got, tc.code, err)
			}
		}
	}
	// The connection is still usable after errors.
	var one int64
	if err := c.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil || one != 1 {
		t.Fatalf("after errors: %v", err)
	}
}

func TestSimpleQueryWithSeveralStatements(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	c := connect(t, ts.url(""))
	results, err := c.PgConn().Exec(ctx, `CREATE TABLE m (a BIGINT); INSERT INTO m VALUES (1), (2); SELECT a * 10 FROM m ORDER BY a; SET x = 1`).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, r := range results {
		tags = append(tags, r.CommandTag.String())
	}
	if strings.Join(tags, "|") != "CREATE TABLE|INSERT 0 2|SELECT 2|SET" {
		t.Fatalf("tags %v", tags)
	}
	if string(results[2].Rows[0][0]) != "10" || string(results[2].Rows[1][0]) != "20" {
		t.Fatalf("rows %q", results[2].Rows)
	}
	// An error stops the script after the results before it; positions refer to the whole text.
	results, err = c.PgConn().Exec(ctx, `INSERT INTO m VALUES (3); SELECT 1/0; INSERT INTO m VALUES (4)`).ReadAll()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "22012" || !strings.Contains(pe.Detail, "column 35") {
		t.Fatalf("err %v detail %q", err, func() string {
			if pe != nil {
				return pe.Detail
			}
			return ""
		}())
	}
	if len(results) < 1 || results[0].CommandTag.String() != "INSERT 0 1" {
		t.Fatalf("results before the error: %d", len(results))
	}
	var n int64
	if err := c.QueryRow(ctx, `SELECT count(*) FROM m`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("count %d %v: the statement after the error must not run", n, err)
	}
}

// bigCross makes a table whose 3-way cross join takes far longer than any test.
func bigCross(t *testing.T, c *pgx.Conn) string {
	var sb strings.Builder
	sb.WriteString("INSERT INTO big VALUES ")
	for i := range 2000 {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, "(%d)", i)
	}
	if _, err := c.Exec(context.Background(), "CREATE TABLE big (v BIGINT); "+sb.String(), pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatal(err)
	}
	return `SELECT count(*) FROM big a CROSS JOIN big b CROSS JOIN big c`
}

// cancelBound is how long a cancelled statement of bigCross's query may take to end: 50 times the
// slowest of three runs of one 2,000th of it (the two-way cross join, 4 million rows) measured
// now, and at least 5 s. The whole query is 2,000 such units, so ending within the bound shows
// that the cancel cut it short, however loaded the machine is.
func cancelBound(t *testing.T, c *pgx.Conn) time.Duration {
	t.Helper()
	var unit time.Duration
	for range 3 {
		start := time.Now()
		var n int64
		if err := c.QueryRow(context.Background(), "SELECT count(*) FROM big a CROSS JOIN big b").Scan(&n); err != nil || n != 4_000_000 {
			t.Fatalf("the baseline query: %d, %v", n, err)
		}
		unit = max(unit, time.Since(start))
	}
	t.Logf("a 2,000th of the query: %v; bound for a cancel: %v", unit, max(5*time.Second, 50*unit))
	return max(5*time.Second, 50*unit)
}

// statementRunning reports whether any connection of srv is executing a statement.
func statementRunning(srv *Server) bool {
	for _, c := range srv.openConns() {
		if c.statementRunning() {
			return true
		}
	}
	return false
}

// cancelWhileRunning sends cancel requests for c's statement until stop is closed: the first once
// the server runs a statement on c, then every 100 ms, so a request that reaches the server before the
// statement does (a no-op, as in PostgreSQL) is not the only one. It returns when no request is
// in flight any more.
func cancelWhileRunning(srv *Server, c *pgx.Conn, stop <-chan struct{}) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			srv.mu.Lock()
			sc := srv.byPID[int32(c.PgConn().PID())]
			srv.mu.Unlock()
			if sc == nil || !sc.statementRunning() {
				continue
			}
			_ = c.PgConn().CancelRequest(context.Background())
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return done
}

func TestCancelAndStatementTimeout(t *testing.T) {
	ts := startServer(t, Config{})
	c := connect(t, ts.url(""))
	q := bigCross(t, c)
	bound := cancelBound(t, c)
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		start := time.Now()
		_, err := c.Exec(ctx, q, mode)
		cancel()
		if err == nil || time.Since(start) > bound {
			t.Fatalf("%v: cancel: err %v after %v (bound %v)", mode, err, time.Since(start), bound)
		}
		// The client gave up; the server must stop the statement too (pgx sends a cancel request
		// and closes the connection when the context ends mid-query).
		waitForWithin(t, bound, "the statement cancelled by the client's context to stop on the server", func() bool { return !statementRunning(ts.srv) })
		if c.IsClosed() {
			c = connect(t, ts.url(""))
		}
	}
	var one int64
	if err := c.QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}

	// A cancel request through the protocol gives 57014 on the same connection.
	c2 := connect(t, ts.url(""))
	stop := make(chan struct{})
	cancelling := cancelWhileRunning(ts.srv, c2, stop)
	start := time.Now()
	_, err := c2.Exec(context.Background(), q)
	took := time.Since(start)
	close(stop)
	<-cancelling
	if pgCode(err) != "57014" || took > bound {
		t.Fatalf("cancel request: %v (code %q) after %v (bound %v)", err, pgCode(err), took, bound)
	}
	if err := c2.QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil {
		t.Fatalf("connection after cancel: %v", err)
	}

	ts2 := startServer(t, Config{StatementTimeout: 200 * time.Millisecond})
	c3 := connect(t, ts2.url(""))
	q = bigCross(t, c3)
	start = time.Now()
	_, err = c3.Exec(context.Background(), q)
	if pgCode(err) != "57014" || !strings.Contains(err.Error(), "statement timeout") || time.Since(start) > bound {
		t.Fatalf("statement timeout: %v (code %q) after %v (bound %v)", err, pgCode(err), time.Since(start), bound)
	}
}

func TestMaxConnections(t *testing.T) {
	ts := startServer(t, Config{MaxConnections: 2})
	a := connect(t, ts.url(""))
	connect(t, ts.url(""))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := pgx.Connect(ctx, ts.url(""))
	if pgCode(err) != "53300" || !strings.Contains(err.Error(), "too many connections") {
		t.Fatalf("third connection: %v", err)
	}
	a.Close(ctx)
	waitFor(t, func() bool { return ts.srv.active.Load() == 1 })
	connect(t, ts.url(""))
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	waitForWithin(t, 5*time.Second, "condition", cond)
}

// waitForWithin polls cond every 10 ms until it holds, failing the test after d.
func waitForWithin(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached in %v", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPasswordAuthentication(t *testing.T) {
	ts := startServer(t, Config{Password: "s3cret pass"})
	ctx := context.Background()
	c := connect(t, "postgres://anyone:s3cret%20pass@"+ts.addr+"/db?sslmode=disable")
	var one int64
	if err := c.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
	for _, url := range []string{
		"postgres://anyone:wrong@" + ts.addr + "/db?sslmode=disable",
		"postgres://anyone@" + ts.addr + "/db?sslmode=disable",
	} {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := pgx.Connect(cctx, url)
		cancel()
		if err == nil {
			t.Fatalf("%s: connected without the password", url)
		}
		if strings.Contains(url, "wrong") && pgCode(err) != "28P01" {
			t.Fatalf("wrong password: %v (code %q)", err, pgCode(err))
		}
	}
}

func TestCheckListen(t *testing.T) {
	cases := []struct {
		addr string
		pw   bool
		ok   bool
	}{
		{"127.0.0.1:5433", false, true}, {"localhost:5433", false, true}, {"[::1]:5433", false, true},
		{"0.0.0.0:5433", false, false}, {":5433", false, false}, {"10.1.2.3:5433", false, false}, {"example.com:5433", false, false},
		{"0.0.0.0:5433", true, true},
	}
	for _, tc := range cases {
		err := CheckListen(tc.addr, tc.pw)
		if (err == nil) != tc.ok {
			t.Errorf("CheckListen(%q, %v) = %v", tc.addr, tc.pw, err)
		}
		if err != nil && !strings.Contains(err.Error(), "without a password") {
			t.Errorf("message %q", err)
		}
	}
}

func TestConcurrentClients(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	c := connect(t, ts.url(""))
	if _, err := c.Exec(ctx, `CREATE TABLE cc (w BIGINT, i BIGINT)`); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			cw, err := pgx.Connect(cctx, ts.url(""))
			if err != nil {
				errs <- err
				return
			}
			defer cw.Close(ctx)
			for i := range 20 {
				if _, err := cw.Exec(cctx, `INSERT INTO cc VALUES ($1, $2)`, w, i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var n, sum int64
	if err := c.QueryRow(ctx, `SELECT count(*), sum(i) FROM cc`).Scan(&n, &sum); err != nil || n != 160 || sum != 8*190 {
		t.Fatalf("count %d sum %d err %v", n, sum, err)
	}
}
