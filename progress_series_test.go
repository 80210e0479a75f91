package streamsql

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/streamsql/streamsql/incremental"
)

// The Spark progress fields: id kept across restarts, runId new per start, eventTime summarizing
// the epoch's rows in ISO 8601, late rows per epoch and cumulative (query and operator agree),
// durations in seconds.
func TestProgressSeriesFields(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	open := func() *Engine {
		e, err := Open(Options{DataDir: filepath.Join(dir, "data"), DurableCatalog: true, Stdout: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	at := func(min, sec int) time.Time { return time.Date(2024, 1, 1, 12, min, sec, 0, time.UTC) }
	e := open()
	if _, err := e.Exec(ctx, `CREATE SOURCE ev (k VARCHAR, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '1 minute') WITH (connector = 'push');
		CREATE SINK w WITH (connector = 'console', format = 'json', output_mode = 'append', trigger = 'manual') AS
			SELECT window_start, COUNT(*) AS n FROM ev GROUP BY window(ts, '1 minute')`); err != nil {
		t.Fatal(err)
	}
	// step pushes rows and returns the epoch that read them (a no-data epoch closing windows
	// may follow it).
	step := func(rows ...[]any) incremental.Progress {
		t.Helper()
		if err := e.Push("ev", rows); err != nil {
			t.Fatal(err)
		}
		if err := e.ProcessAllAvailable(ctx, "w"); err != nil {
			t.Fatal(err)
		}
		info, _ := e.QueryInfo("w")
		for i := len(info.Recent) - 1; i >= 0; i-- {
			if info.Recent[i].NumInputRows > 0 {
				return info.Recent[i]
			}
		}
		t.Fatalf("no epoch read the rows: %+v", info.Recent)
		return incremental.Progress{}
	}
	p1 := step([]any{"a", at(10, 0)}, []any{"b", at(10, 30)}, []any{"c", at(11, 0)})
	want := map[string]string{"min": "2024-01-01T12:10:00.000000Z", "max": "2024-01-01T12:11:00.000000Z", "avg": "2024-01-01T12:10:30.000000Z"}
	for k, v := range want {
		if p1.EventTime[k] != v {
			t.Errorf("first epoch eventTime[%s] = %q, want %q (all: %v)", k, p1.EventTime[k], v, p1.EventTime)
		}
	}
	if _, ok := p1.EventTime["watermark"]; ok {
		t.Errorf("first epoch ran before any event, yet has watermark %q", p1.EventTime["watermark"])
	}
	if p1.ID == "" || p1.RunID == "" || p1.DurationSeconds["triggerExecution"] <= 0 {
		t.Fatalf("id %q, runId %q, durationSeconds %v: want both ids and a positive duration", p1.ID, p1.RunID, p1.DurationSeconds)
	}
	// The watermark is now 12:10: two rows older than it are late, one is not.
	p2 := step([]any{"d", at(5, 0)}, []any{"e", at(6, 0)}, []any{"f", at(12, 0)})
	if p2.EventTime["watermark"] != "2024-01-01T12:10:00.000000Z" {
		t.Errorf("second epoch watermark %q, want 2024-01-01T12:10:00.000000Z", p2.EventTime["watermark"])
	}
	p3 := step([]any{"g", at(1, 0)})
	if p2.DroppedLateRows != 2 || p3.DroppedLateRows != 1 || p3.DroppedLateRowsTotal != 3 {
		t.Errorf("late rows per epoch %d then %d, total %d; want 2, 1, 3", p2.DroppedLateRows, p3.DroppedLateRows, p3.DroppedLateRowsTotal)
	}
	if len(p3.StateOperators) != 1 || p3.StateOperators[0].DroppedLateRows != 1 || p3.StateOperators[0].DroppedLateRowsTotal != 3 {
		t.Errorf("operator late rows %+v, want 1 in the epoch and 3 in all", p3.StateOperators)
	}
	if p3.ID != p1.ID || p3.RunID != p1.RunID {
		t.Errorf("ids changed within one run: %s/%s then %s/%s", p1.ID, p1.RunID, p3.ID, p3.RunID)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = open()
	defer e.Close()
	p4 := step([]any{"h", at(20, 0)})
	if p4.ID != p1.ID || p4.RunID == p1.RunID {
		t.Errorf("after a restart: id %s (was %s, want the same), runId %s (was %s, want a new one)", p4.ID, p1.ID, p4.RunID, p1.RunID)
	}
}

// TestProgressStateRowsUpdatedRemoved: numRowsUpdated counts the groups an epoch changed and
// numRowsRemoved the groups it evicted, per epoch, for an append-mode windowed count (hash
// aggregate) and an update-mode count without a watermark (retracting aggregate under a view's
// result table).
func TestProgressStateRowsUpdatedRemoved(t *testing.T) {
	ctx := context.Background()
	e, err := Open(Options{Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	at := func(min int) time.Time { return time.Date(2024, 1, 1, 12, min, 0, 0, time.UTC) }
	if _, err := e.Exec(ctx, `CREATE SOURCE ev (k VARCHAR, ts TIMESTAMP, WATERMARK FOR ts AS ts) WITH (connector = 'push');
		CREATE SINK w WITH (connector = 'console', format = 'json', output_mode = 'append', trigger = 'manual') AS
			SELECT window_start, COUNT(*) AS n FROM ev GROUP BY window(ts, '1 minute');
		CREATE MATERIALIZED VIEW byk WITH (trigger = 'manual') AS SELECT k, COUNT(*) AS n FROM ev GROUP BY k;
		CREATE MATERIALIZED VIEW hist WITH (trigger = 'manual') AS
			SELECT n, COUNT(*) AS keys FROM (SELECT k, COUNT(*) AS n FROM ev GROUP BY k) AS t GROUP BY n`); err != nil {
		t.Fatal(err)
	}
	// sums returns, over the epochs since the previous call, each state operator's updated and
	// removed rows.
	seen := map[string]int{}
	sums := func(query string) (updated, removed []int64) {
		t.Helper()
		if err := e.ProcessAllAvailable(ctx, query); err != nil {
			t.Fatal(err)
		}
		info, _ := e.QueryInfo(query)
		for _, p := range info.Recent[seen[query]:] {
			for i, op := range p.StateOperators {
				if i == len(updated) {
					updated, removed = append(updated, 0), append(removed, 0)
				}
				updated[i] += op.RowsUpdated
				removed[i] += op.RowsRemoved
			}
		}
		seen[query] = len(info.Recent)
		return updated, removed
	}
	check := func(what, query string, wantUpdated, wantRemoved []int64) {
		t.Helper()
		u, r := sums(query)
		if fmt.Sprint(u, r) != fmt.Sprint(wantUpdated, wantRemoved) {
			t.Errorf("%s: updated %v, removed %v per operator; want %v and %v", what, u, r, wantUpdated, wantRemoved)
		}
	}
	// Windows 12:00, 12:01 (two rows) and 12:05: three groups; the watermark 12:05 then closes
	// and evicts 12:00 and 12:01.
	if err := e.Push("ev", [][]any{{"a", at(0)}, {"b", at(1)}, {"a", at(1)}, {"c", at(5)}}); err != nil {
		t.Fatal(err)
	}
	check("window count", "w", []int64{3}, []int64{2})
	// Groups a, b, c: in the aggregate, and in the view's result table above it (upserts by k).
	check("count by k", "byk", []int64{3, 3}, []int64{0, 0})
	// Counts of counts: groups n=2 (a) and n=1 (b, c); operators inner, outer, result table.
	check("histogram", "hist", []int64{3, 2, 2}, []int64{0, 0, 0})
	// 12:05 gets one more row (one group updated), 12:07 is new; the watermark 12:07 evicts 12:05.
	if err := e.Push("ev", [][]any{{"a", at(5)}, {"d", at(7)}}); err != nil {
		t.Fatal(err)
	}
	check("window count, second push", "w", []int64{2}, []int64{1})
	check("count by k, second push (a and d)", "byk", []int64{2, 2}, []int64{0, 0})
	// a moves from n=2 to n=3, d joins n=1: groups 2 (now empty: removed), 3 and 1 changed. The
	// result table holds whole rows (it gets retractions here, not upserts): (2, 1) and (1, 2)
	// go, (3, 1) and (1, 3) come.
	check("histogram, second push", "hist", []int64{2, 3, 2}, []int64{0, 1, 2})
}
