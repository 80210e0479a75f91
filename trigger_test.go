package streamsql

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/incremental"
	"github.com/streamsql/streamsql/sinks"
	"github.com/streamsql/streamsql/sources"
	"github.com/streamsql/streamsql/sql"
)

// countingSink counts the epochs written and the rows they held.
type countingSink struct {
	mu           sync.Mutex
	epochs, rows int64
}

func (c *countingSink) Open(*arrow.Schema, sinks.OutputMode, []int) error { return nil }
func (c *countingSink) Close() error                                      { return nil }
func (c *countingSink) Write(_ context.Context, _ int64, deltas []exec.Delta) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epochs++
	for _, d := range deltas {
		c.rows += d.Rec.NumRows()
	}
	return nil
}

func (c *countingSink) counts() (epochs, rows int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epochs, c.rows
}

// startTriggerQuery starts `SELECT k, v FROM ev` (append mode) over eng's source ev with trigger
// on the incremental driver, writing into sink.
func startTriggerQuery(t *testing.T, eng *Engine, trigger incremental.Trigger, sink sinks.Sink) *incremental.Query {
	t.Helper()
	parsed, err := sql.Parse("CREATE SINK out WITH (connector = 'console') AS SELECT k, v FROM ev")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := sql.BindQuery(eng.catalog, parsed.(*sql.CreateSink).Query)
	if err != nil {
		t.Fatal(err)
	}
	src := eng.catalog.sources["ev"]
	st, err := sources.OpenStream(eng.streamConfig(src, nil))
	if err != nil {
		t.Fatal(err)
	}
	q, err := incremental.Start(incremental.Config{
		Name: "out", Plan: plan, Mode: sinks.Append, Sink: sink, SinkName: "count",
		Inputs:  []*incremental.Input{{Name: src.name, Stream: st, TimeCol: src.timeCol, Delay: src.delay}},
		Trigger: trigger, Clock: eng.opts.Clock, Mem: eng.opts.Allocator, Logger: eng.opts.Logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Stop() })
	return q
}

// waitRows waits (at most 30 s, a bound for a stuck query, not a speed requirement) until sink
// received want rows.
func waitRows(t *testing.T, sink *countingSink, want int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		epochs, rows := sink.counts()
		if rows == want {
			return
		}
		if rows > want || time.Now().After(deadline) {
			t.Fatalf("sink received %d rows in %d epochs, want %d", rows, epochs, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestDefaultTriggerPaces: with the default trigger, a rate-limited source is read in epochs at
// most DefaultMinInterval apart (by the query's clock), not in back-to-back epochs of a few rows.
// The clock runs 20 times faster than real time, so 300,000 rows at 100,000 rows/s take 150 ms.
func TestDefaultTriggerPaces(t *testing.T) {
	base, realStart := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Now()
	clock := func() time.Time { return base.Add(20 * time.Since(realStart)) }
	eng, err := Open(Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	mustExec(t, eng, "CREATE SOURCE ev (k VARCHAR, v BIGINT) WITH (connector = 'datagen', rows_per_second = '100000', number_of_rows = '300000')")
	sink := &countingSink{}
	clock0, real0 := clock(), time.Now()
	startTriggerQuery(t, eng, incremental.Trigger{}, sink)
	waitRows(t, sink, 300_000)
	epochs, _ := sink.counts()
	// Each pause ends DefaultMinInterval after its epoch started by the clock, or after as much
	// real time, whichever comes first: so epochs cannot start more often than that.
	clockElapsed, realElapsed := clock().Sub(clock0), time.Since(real0)
	limit := int64(clockElapsed/incremental.DefaultMinInterval+realElapsed/incremental.DefaultMinInterval) + 2
	if epochs > limit {
		t.Errorf("%d epochs in %s of clock time (%s real): the default trigger ran epochs more often than every %s (at most %d expected)",
			epochs, clockElapsed, realElapsed, incremental.DefaultMinInterval, limit)
	}
	if epochs < 2 {
		t.Errorf("%d epochs: the rate-limited source should have needed several", epochs)
	}
}

// TestDefaultTriggerDoesNotPauseWhenBacklogged: when a source stops short of its data because of
// max_rows_per_trigger, the next epoch starts at once. The pause is set to an hour, so a single
// pause would leave the rows unread until waitRows gives up.
func TestDefaultTriggerDoesNotPauseWhenBacklogged(t *testing.T) {
	eng, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	mustExec(t, eng, "CREATE SOURCE ev (k VARCHAR, v BIGINT) WITH (connector = 'datagen', rows_per_second = 'unbounded', max_rows_per_trigger = '1000', number_of_rows = '100000')")
	sink := &countingSink{}
	startTriggerQuery(t, eng, incremental.Trigger{MinInterval: time.Hour}, sink)
	waitRows(t, sink, 100_000)
	if epochs, _ := sink.counts(); epochs != 100 {
		t.Errorf("%d epochs for 100,000 rows at max_rows_per_trigger 1000, want 100", epochs)
	}
}

func TestParseTriggerDefaultAndContinuous(t *testing.T) {
	for s, want := range map[string]incremental.Trigger{
		"": {}, "default": {}, "0": {Continuous: true},
		"1 second": {Interval: time.Second}, "available_now": {AvailableNow: true}, "manual": {Manual: true},
	} {
		got, err := incremental.ParseTrigger(s)
		if err != nil || got != want {
			t.Errorf("ParseTrigger(%q) = %+v, %v; want %+v", s, got, err, want)
		}
	}
	if got, err := incremental.ParseTrigger("continuous"); err == nil {
		t.Errorf("ParseTrigger(continuous) = %+v, want a refusal (continuous processing is not micro-batching)", got)
	}
}
