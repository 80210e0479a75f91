package streamsql

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/sinks"
)

// epochChange is one delivered change, rendered: rows "cells|weight".
type epochChange struct {
	epoch int64
	rows  []string
}

// collect returns an fn for Subscribe that sends each change, rendered, on ch.
func collect(ch chan<- epochChange) func(int64, arrow.RecordBatch) error {
	return func(epoch int64, rec arrow.RecordBatch) error {
		last := int(rec.NumCols()) - 1
		if f := rec.Schema().Field(last); f.Name != "weight" || f.Type.ID() != arrow.INT64 {
			return fmt.Errorf("last column %s %s, want weight BIGINT", f.Name, f.Type)
		}
		var rows []string
		for i := 0; i < int(rec.NumRows()); i++ {
			cells := make([]string, last)
			for c := range cells {
				cells[c] = exec.FormatValue(rec.Column(c), i)
			}
			rows = append(rows, strings.Join(cells, "|")+"|"+fmt.Sprint(rec.Column(last).(*array.Int64).Value(i)))
		}
		ch <- epochChange{epoch, rows}
		return nil
	}
}

// apply adds a change's weighted rows to state (row -> multiplicity).
func apply(t *testing.T, state map[string]int, c epochChange) {
	t.Helper()
	for _, r := range c.rows {
		i := strings.LastIndexByte(r, '|')
		var w int
		fmt.Sscan(r[i+1:], &w)
		if w != 1 && w != -1 {
			t.Fatalf("weight %d in %q", w, r)
		}
		state[r[:i]] += w
		if state[r[:i]] == 0 {
			delete(state, r[:i])
		}
	}
}

func expand(state map[string]int) []string {
	var out []string
	for r, n := range state {
		for range n {
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out
}

// TestSubscribeReconstructsView: a subscriber to a running aggregation receives its changes in
// epoch order, and the sum of the ±rows equals SELECT * FROM the view after every epoch. The
// subscription leaves no Arrow memory behind: the engine holds as many bytes after Close as in
// the same run without a subscriber.
func TestSubscribeReconstructsView(t *testing.T) {
	without := subscribeScenario(t, false)
	with := subscribeScenario(t, true)
	if with != without {
		t.Fatalf("%d bytes outstanding after a run with a subscriber, %d without", with, without)
	}
}

func subscribeScenario(t *testing.T, subscribe bool) int {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	eng, err := Open(Options{Allocator: mem})
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, eng, "CREATE SOURCE ev (k VARCHAR, v BIGINT) WITH (connector = 'push')")
	mustExec(t, eng, "CREATE MATERIALIZED VIEW agg WITH (trigger = 'manual') AS SELECT k, COUNT(*) AS n, SUM(v) AS s FROM ev GROUP BY k")
	ctx := context.Background()
	if err := eng.Push("ev", [][]any{{"a", 1}, {"b", 2}}); err != nil {
		t.Fatal(err)
	}
	if err := eng.ProcessAllAvailable(ctx, "agg"); err != nil {
		t.Fatal(err)
	}
	subCtx, cancel := context.WithCancel(ctx)
	ch := make(chan epochChange, 64)
	done := make(chan error, 1)
	state := map[string]int{}
	var prev int64
	if subscribe {
		go func() { done <- eng.Subscribe(subCtx, "agg", collect(ch)) }()
		first := <-ch
		apply(t, state, first)
		if got, want := expand(state), query(t, eng, "SELECT * FROM agg"); !slices.Equal(got, want) {
			t.Fatalf("snapshot %v, view %v", got, want)
		}
		prev = first.epoch
	} else {
		query(t, eng, "SELECT * FROM agg")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for round := 0; round < 12; round++ {
		var rows [][]any
		for range 1 + rng.IntN(6) {
			var v any = int64(rng.IntN(9))
			if rng.IntN(6) == 0 {
				v = nil
			}
			rows = append(rows, []any{fmt.Sprint("k", rng.IntN(5)), v})
		}
		if err := eng.Push("ev", rows); err != nil {
			t.Fatal(err)
		}
		if err := eng.ProcessAllAvailable(ctx, "agg"); err != nil {
			t.Fatal(err)
		}
		if !subscribe {
			query(t, eng, "SELECT * FROM agg") // the same reads as the subscribed run
			continue
		}
		p, _ := eng.QueryProgress("agg")
		// Every epoch here changes a count, so each one is delivered, in order.
		c := <-ch
		if c.epoch <= prev || c.epoch != p.Epoch {
			t.Fatalf("round %d: change of epoch %d after %d; the view is at %d", round, c.epoch, prev, p.Epoch)
		}
		prev = c.epoch
		apply(t, state, c)
		if got, want := expand(state), query(t, eng, "SELECT * FROM agg"); !slices.Equal(got, want) {
			t.Fatalf("after epoch %d: reconstructed %v, view %v", c.epoch, got, want)
		}
	}
	cancel()
	if subscribe {
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Subscribe after cancel: %v, want context.Canceled", err)
		}
	}
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	return mem.CurrentAlloc()
}

// TestSubscribeQueryRunsTemporaryView: SUBSCRIBE TO (query) runs a hidden view that Close stops.
func TestSubscribeQueryRunsTemporaryView(t *testing.T) {
	eng, err := Open(Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	mustExec(t, eng, "CREATE SOURCE ev (k VARCHAR, v BIGINT) WITH (connector = 'push')")
	stmt := "SUBSCRIBE TO (SELECT k, SUM(v) AS total FROM ev WHERE v > 0 GROUP BY k)"
	if !IsSubscribe(stmt) || IsSubscribe("SELECT 1") {
		t.Fatal("IsSubscribe")
	}
	cols, err := eng.SubscribeColumns(stmt)
	if err != nil || cols.NumFields() != 2 || cols.Field(1).Name != "total" || cols.Field(1).Type.ID() != arrow.INT64 {
		t.Fatalf("SubscribeColumns: %v, %v", cols, err)
	}
	s, err := eng.OpenSubscription(context.Background(), stmt)
	if err != nil {
		t.Fatal(err)
	}
	for _, show := range []string{"SHOW MATERIALIZED VIEWS", "SHOW QUERIES", "SHOW TABLES"} {
		if rows := query(t, eng, show); len(rows) != 0 {
			t.Fatalf("%s shows the temporary view: %v", show, rows)
		}
	}
	ch := make(chan epochChange, 8)
	done := make(chan error, 1)
	go func() { done <- s.Run(collect(ch)) }()
	if err := eng.Push("ev", [][]any{{"a", 1}, {"a", 2}, {"b", -1}}); err != nil {
		t.Fatal(err)
	}
	if c := <-ch; !slices.Equal(c.rows, []string{"a|3|1"}) {
		t.Fatalf("first change %v", c.rows)
	}
	if err := eng.Push("ev", [][]any{{"a", 4}, {"b", 5}}); err != nil {
		t.Fatal(err)
	}
	c := <-ch
	sort.Strings(c.rows)
	if !slices.Equal(c.rows, []string{"a|3|-1", "a|7|1", "b|5|1"}) {
		t.Fatalf("second change %v", c.rows)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, sinks.ErrSubscriptionClosed) {
		t.Fatalf("Run after Close: %v", err)
	}
	if st, _ := s.rq.q.Status(); st != "stopped" {
		t.Fatalf("temporary query is %s after Close, want stopped", st)
	}
	if _, err := eng.SubscribeColumns("SUBSCRIBE TO (SELECT 1)"); err == nil || !strings.Contains(err.Error(), "reads no source") {
		t.Fatalf("query without a source: %v", err)
	}
}

// TestSubscribeEnds: dropping the view ends a subscription with an error saying so; unknown
// names and non-views are refused with clear messages; fn's error is returned.
func TestSubscribeEnds(t *testing.T) {
	eng, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	mustExec(t, eng, "CREATE SOURCE ev (k VARCHAR, v BIGINT) WITH (connector = 'push')")
	mustExec(t, eng, "CREATE TABLE t (k VARCHAR)")
	mustExec(t, eng, "CREATE MATERIALIZED VIEW totals AS SELECT k, SUM(v) AS s FROM ev GROUP BY k")
	ctx := context.Background()
	for name, want := range map[string]string{
		"total": `materialized view "total" does not exist; did you mean "totals"?`,
		"t":     `"t" is not a materialized view`,
		"ev":    `"ev" is not a materialized view`,
	} {
		err := eng.Subscribe(ctx, name, func(int64, arrow.RecordBatch) error { return nil })
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Subscribe(%s): %v, want %q", name, err, want)
		}
	}

	ch := make(chan epochChange, 8)
	done := make(chan error, 1)
	go func() { done <- eng.Subscribe(ctx, "totals", collect(ch)) }()
	if err := eng.Push("ev", [][]any{{"a", 1}}); err != nil {
		t.Fatal(err)
	}
	if c := <-ch; !slices.Equal(c.rows, []string{"a|1|1"}) {
		t.Fatalf("change %v", c.rows)
	}
	mustExec(t, eng, "DROP MATERIALIZED VIEW totals")
	if err := <-done; err == nil || err.Error() != "materialized view totals was dropped" {
		t.Fatalf("after DROP: %v", err)
	}

	mustExec(t, eng, "CREATE MATERIALIZED VIEW totals AS SELECT k, SUM(v) AS s FROM ev GROUP BY k")
	if err := eng.Push("ev", [][]any{{"b", 2}}); err != nil {
		t.Fatal(err)
	}
	if err := eng.ProcessAllAvailable(ctx, "totals"); err != nil {
		t.Fatal(err)
	}
	stop := errors.New("enough")
	err = eng.Subscribe(ctx, "totals", func(int64, arrow.RecordBatch) error { return stop })
	if !errors.Is(err, stop) {
		t.Fatalf("fn's error: %v", err)
	}
}

func TestExecRefusesSubscribe(t *testing.T) {
	eng, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if _, err := eng.Exec(context.Background(), "SUBSCRIBE TO v"); !errors.Is(err, ErrSubscribeInExec) {
		t.Fatalf("Exec(SUBSCRIBE) = %v, want ErrSubscribeInExec", err)
	}
}
