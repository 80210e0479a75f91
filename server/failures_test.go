package server

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/streamsql/streamsql"
	"github.com/streamsql/streamsql/sinks"
)

// TestUnreachableSinkReportsTheCause: a sink whose database does not answer fails CREATE with
// the connection error (SQLSTATE 08001), not "canceling statement due to user request".
func TestUnreachableSinkReportsTheCause(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{})
	c := connect(t, ts.url(""))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if _, err := c.Exec(ctx, "CREATE SOURCE p (v VARCHAR) WITH (connector = 'push')"); err != nil {
		t.Fatal(err)
	}
	_, err := c.Exec(ctx, "CREATE SINK o WITH (connector = 'postgres', url = 'postgres://u:secretpw@127.0.0.1:1/db', table = 't') AS SELECT v FROM p")
	if err == nil || pgCode(err) != "08001" || !strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "canceling statement") {
		t.Fatalf("unreachable sink: %v (code %q)", err, pgCode(err))
	}
	if strings.Contains(err.Error(), "secretpw") {
		t.Fatalf("the error shows the password: %v", err)
	}
}

// TestEngineTimeoutIsNotACancel: an error that wraps context.DeadlineExceeded from inside the
// engine keeps its message; a real statement timeout still reads as one.
func TestEngineTimeoutIsNotACancel(t *testing.T) {
	slow := func(sinks.Config) (sinks.Sink, error) {
		return nil, fmt.Errorf("warehouse: gave up after 3 attempts: %w", context.DeadlineExceeded)
	}
	ts := startServerWith(t, Config{}, streamsql.Options{SinkConnectors: map[string]func(sinks.Config) (sinks.Sink, error){"warehouse": slow}})
	c := connect(t, ts.url(""))
	ctx := context.Background()
	if _, err := c.Exec(ctx, "CREATE SOURCE p (v VARCHAR) WITH (connector = 'push')"); err != nil {
		t.Fatal(err)
	}
	_, err := c.Exec(ctx, "CREATE SINK o WITH (connector = 'warehouse') AS SELECT v FROM p")
	if err == nil || pgCode(err) == "57014" || !strings.Contains(err.Error(), "warehouse: gave up after 3 attempts") {
		t.Fatalf("engine timeout: %v (code %q)", err, pgCode(err))
	}
}

// TestTooManyResultColumns: 32,768 result columns get a clear error (54011) instead of a
// RowDescription whose count wrapped around; the connection keeps working.
func TestTooManyResultColumns(t *testing.T) {
	ts := startServer(t, Config{})
	c := connect(t, ts.url(""))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var b strings.Builder
	b.WriteString("SELECT 1 AS c0")
	for i := 1; i < 32768; i++ {
		fmt.Fprintf(&b, ", 1 AS c%d", i)
	}
	for _, mode := range []string{"simple", "extended"} {
		var err error
		if mode == "simple" {
			_, err = c.Exec(ctx, b.String(), pgx.QueryExecModeSimpleProtocol)
		} else {
			_, err = c.Exec(ctx, b.String())
		}
		if pgCode(err) != "54011" || !strings.Contains(err.Error(), "32768 columns") {
			t.Fatalf("%s protocol: %v (code %q)", mode, err, pgCode(err))
		}
	}
	var n int64
	if err := c.QueryRow(ctx, "SELECT 2").Scan(&n); err != nil || n != 2 {
		t.Fatalf("after the refusal: %d %v", n, err)
	}
}
