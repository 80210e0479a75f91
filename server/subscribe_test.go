package server

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
)

// subRow is one row of a SUBSCRIBE result: epoch, weight and the view's row rendered.
type subRow struct {
	epoch, weight int64
	row           string
	err           error // set on the last message: how the result ended
}

// readSubscription reads a SUBSCRIBE result with pgx and sends each row on the channel; the
// final message carries the error that ended it.
func readSubscription(ctx context.Context, c *pgx.Conn, stmt string, mode pgx.QueryExecMode) <-chan subRow {
	out := make(chan subRow, 256)
	go func() {
		rows, err := c.Query(ctx, stmt, mode)
		if err != nil {
			out <- subRow{err: err}
			return
		}
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				out <- subRow{err: err}
				rows.Close()
				return
			}
			cells := make([]string, len(vals)-2)
			for i, v := range vals[2:] {
				cells[i] = fmt.Sprint(v)
			}
			out <- subRow{epoch: vals[0].(int64), weight: vals[1].(int64), row: strings.Join(cells, "|")}
		}
		rows.Close()
		out <- subRow{err: rows.Err()}
	}()
	return out
}

func viewRows(t *testing.T, c *pgx.Conn, q string) []string {
	t.Helper()
	rows, err := c.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		cells := make([]string, len(vals))
		for i, v := range vals {
			cells[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(cells, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// TestSubscribeOverWire is the acceptance test: a pgx client subscribes to a running
// aggregation, the test pushes data in several epochs, and the table the client rebuilds from
// the ±rows equals SELECT * FROM the view after each epoch, the epochs arriving in order. Both
// protocols; then a cancel ends the subscription with 57014.
func TestSubscribeOverWire(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	if _, err := ts.eng.Exec(ctx, `CREATE SOURCE ev (k VARCHAR, v BIGINT) WITH (connector = 'push');
		CREATE MATERIALIZED VIEW agg WITH (trigger = 'manual') AS SELECT k, COUNT(*) AS n, SUM(v) AS s FROM ev GROUP BY k`); err != nil {
		t.Fatal(err)
	}
	push := func(rows ...[]any) {
		t.Helper()
		if err := ts.eng.Push("ev", rows); err != nil {
			t.Fatal(err)
		}
		if err := ts.eng.ProcessAllAvailable(ctx, "agg"); err != nil {
			t.Fatal(err)
		}
	}
	push([]any{"a", 1}, []any{"b", 2})
	reader := connect(t, ts.url(""))
	rng := rand.New(rand.NewPCG(1, 2))
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		t.Run(mode.String(), func(t *testing.T) {
			c := connect(t, ts.url(""))
			subCtx, cancel := context.WithCancel(ctx)
			defer cancel()
			rows := readSubscription(subCtx, c, "SUBSCRIBE TO agg", mode)
			state := map[string]int64{}
			last := int64(-1)
			// catchUp applies rows until the rebuilt table equals the view at its current epoch.
			catchUp := func() {
				t.Helper()
				want := viewRows(t, reader, "SELECT * FROM agg")
				p, _ := ts.eng.QueryProgress("agg")
				timeout := time.After(10 * time.Second)
				for last != p.Epoch || !slices.Equal(expandState(state), want) {
					select {
					case r := <-rows:
						if r.err != nil {
							t.Fatalf("subscription ended: %v", r.err)
						}
						if r.epoch < last {
							t.Fatalf("epoch %d after %d", r.epoch, last)
						}
						if r.weight != 1 && r.weight != -1 {
							t.Fatalf("weight %d", r.weight)
						}
						last = r.epoch
						state[r.row] += r.weight
					case <-timeout:
						t.Fatalf("at epoch %d the client rebuilt %v, view %v (epoch %d)", last, expandState(state), want, p.Epoch)
					}
				}
			}
			catchUp()
			for range 6 {
				var batch [][]any
				for range 1 + rng.IntN(5) {
					batch = append(batch, []any{fmt.Sprint("k", rng.IntN(4)), rng.IntN(10)})
				}
				push(batch...)
				catchUp()
			}
			cancel()
			if err := drain(rows); err == nil {
				t.Fatal("subscription ended without an error after cancel")
			}
			if !c.IsClosed() {
				// The connection stays usable after the cancelled subscription.
				if got := viewRows(t, c, "SELECT COUNT(*) FROM agg"); len(got) != 1 {
					t.Fatalf("after cancel: %v", got)
				}
			}
		})
	}
}

func expandState(state map[string]int64) []string {
	var out []string
	for r, n := range state {
		for range n {
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out
}

// TestSubscribeWireEnds: a cancel request gives 57014 on a connection that stays usable; a
// dropped view ends the result with an error naming it; closing the connection (with or
// without Terminate) ends the subscription server-side at once; bad statements are refused.
func TestSubscribeWireEnds(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := context.Background()
	if _, err := ts.eng.Exec(ctx, `CREATE SOURCE ev (k VARCHAR, v BIGINT) WITH (connector = 'push');
		CREATE MATERIALIZED VIEW agg AS SELECT k, SUM(v) AS s FROM ev GROUP BY k`); err != nil {
		t.Fatal(err)
	}
	if err := ts.eng.Push("ev", [][]any{{"a", 1}}); err != nil {
		t.Fatal(err)
	}
	if err := ts.eng.ProcessAllAvailable(ctx, "agg"); err != nil {
		t.Fatal(err)
	}

	c := connect(t, ts.url(""))
	rows := readSubscription(ctx, c, "SUBSCRIBE TO agg", pgx.QueryExecModeSimpleProtocol)
	if r := <-rows; r.err != nil || r.row != "a|1" || r.weight != 1 {
		t.Fatalf("snapshot row %+v", r)
	}
	if err := c.PgConn().CancelRequest(ctx); err != nil {
		t.Fatal(err)
	}
	if r := <-rows; pgCode(r.err) != "57014" {
		t.Fatalf("after cancel request: %+v (code %q)", r, pgCode(r.err))
	}
	if got := viewRows(t, c, "SELECT * FROM agg"); !slices.Equal(got, []string{"a|1"}) {
		t.Fatalf("connection after cancel: %v", got)
	}

	rows = readSubscription(ctx, c, "SUBSCRIBE TO agg", pgx.QueryExecModeCacheStatement)
	<-rows
	if _, err := ts.eng.Exec(ctx, "DROP MATERIALIZED VIEW agg"); err != nil {
		t.Fatal(err)
	}
	if r := <-rows; r.err == nil || !strings.Contains(r.err.Error(), "materialized view agg was dropped") {
		t.Fatalf("after DROP: %+v", r)
	}
	if _, err := ts.eng.Exec(ctx, "CREATE MATERIALIZED VIEW agg AS SELECT k, SUM(v) AS s FROM ev GROUP BY k"); err != nil {
		t.Fatal(err)
	}

	for _, bad := range []struct{ stmt, msg string }{
		{"SUBSCRIBE TO nope", `materialized view "nope" does not exist`},
		{"SUBSCRIBE TO agg; SELECT 1", "SUBSCRIBE must be the last statement"},
		{"SUBSCRIBE TO (SELECT k FROM ev WHERE v = $1)", "SUBSCRIBE takes no parameters"},
	} {
		mode := pgx.QueryExecModeSimpleProtocol
		if strings.Contains(bad.stmt, "$1") {
			mode = pgx.QueryExecModeCacheStatement
		}
		r := <-readSubscription(ctx, c, bad.stmt, mode)
		if r.err == nil || !strings.Contains(r.err.Error(), bad.msg) {
			t.Fatalf("%s: %+v, want %q", bad.stmt, r, bad.msg)
		}
	}

	// A client that goes away mid-subscription: the server notices without any new epoch. (A
	// raw protocol client: pgx sends a CancelRequest when it closes mid-query.)
	for _, terminate := range []bool{true, false} {
		before := ts.srv.active.Load()
		nc := rawSubscribe(t, ts.addr, "SUBSCRIBE TO (SELECT k, COUNT(*) FROM ev GROUP BY k)")
		if terminate {
			if _, err := nc.Write([]byte{'X', 0, 0, 0, 4}); err != nil {
				t.Fatal(err)
			}
		}
		nc.Close()
		waitFor(t, func() bool { return ts.srv.active.Load() == before })
	}
}

// rawSubscribe connects with the bare protocol, runs stmt and returns once the first row came.
func rawSubscribe(t *testing.T, addr, stmt string) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	fe := pgproto3.NewFrontend(nc, nc)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": "tester", "database": "db"}})
	sent := false
	for {
		if err := fe.Flush(); err != nil {
			t.Fatal(err)
		}
		msg, err := fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		switch m := msg.(type) {
		case *pgproto3.ReadyForQuery:
			if sent {
				t.Fatal("SUBSCRIBE completed")
			}
			fe.Send(&pgproto3.Query{String: stmt})
			sent = true
		case *pgproto3.ErrorResponse:
			t.Fatalf("%s: %s", stmt, m.Message)
		case *pgproto3.DataRow:
			_ = nc.SetDeadline(time.Time{})
			return nc
		}
	}
}

// drain reads a subscription's rows up to its final message and returns how it ended.
func drain(rows <-chan subRow) error {
	for r := range rows {
		if r.err != nil || r.row == "" {
			return r.err
		}
	}
	return nil
}
