package server

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a bytes.Buffer safe for the server's concurrent log writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestFailedStatementLogHidesSecrets: the debug line for a failed statement must not repeat a
// password given in a sink URL or a sensitive Kafka option (README: passwords never appear in logs).
func TestFailedStatementLogHidesSecrets(t *testing.T) {
	var buf lockedBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ts := startServer(t, Config{Logger: log})
	c := connect(t, ts.url(""))
	stmt := `CREATE SINK s WITH (connector = 'postgres', url = 'postgres://u:hunter2@127.0.0.1:1/db', ` +
		`'kafka.sasl.password' = 'swordfish', sasl_secret='opensesame', table = 't') AS SELEC 1`
	if _, err := c.Exec(context.Background(), stmt); err == nil {
		t.Fatal("expected a syntax error")
	}
	logged := buf.String()
	if !strings.Contains(logged, "statement failed") {
		t.Fatalf("no statement-failed line in the log:\n%s", logged)
	}
	for _, secret := range []string{"hunter2", "swordfish", "opensesame"} {
		if strings.Contains(logged, secret) {
			t.Errorf("log leaks %q:\n%s", secret, logged)
		}
	}
	// The rest of the statement stays, so the line is still useful.
	if !strings.Contains(logged, "postgres://u:***@127.0.0.1:1/db") {
		t.Errorf("log lost the redacted URL:\n%s", logged)
	}
}

// TestSQLStateOfColumnAndOperatorErrors: PostgreSQL's codes for a missing INSERT target column
// (42703, not 42P01: the message names the relation too) and a missing operator (42883).
func TestSQLStateOfColumnAndOperatorErrors(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	c := connect(t, ts.url(""))
	if _, err := c.Exec(ctx, `CREATE TABLE t (a BIGINT, s VARCHAR)`); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ sql, code string }{
		{`INSERT INTO t (nope) VALUES (1)`, "42703"},
		{`SELECT a + s FROM t`, "42883"},
		{`SELECT * FROM nope`, "42P01"},
	}
	for _, tc := range cases {
		_, err := c.Exec(ctx, tc.sql)
		if got := pgCode(err); got != tc.code {
			t.Errorf("%s: code %q, want %s (err %v)", tc.sql, got, tc.code, err)
		}
	}
}

// TestCatalogWordsInDataAreNotEmulated: a statement that merely mentions a catalog name in a
// string literal (an INSERT of the text 'pg_catalog.x') reaches the engine; it used to be
// answered with an empty result set, silently dropping the insert.
func TestCatalogWordsInDataAreNotEmulated(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	c := connect(t, ts.url(""))
	if _, err := c.Exec(ctx, `CREATE TABLE notes (s VARCHAR)`); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"see pg_catalog.pg_class", "information_schema.tables", "pg_class"} {
		if _, err := c.Exec(ctx, `INSERT INTO notes VALUES ('`+v+`')`); err != nil {
			t.Fatal(err)
		}
	}
	var n int64
	if err := c.QueryRow(ctx, `SELECT COUNT(*) FROM notes WHERE s <> 'pg_class'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("rows other than 'pg_class': %d, want 2", n)
	}
	// Real catalog probes are still answered (empty).
	rows, err := c.Query(ctx, `SELECT typname FROM pg_type WHERE oid = 25`)
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
}
