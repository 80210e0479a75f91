package streamsql

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/sinks"
)

// testClock is an injected clock the test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// captureSink keeps the rows of every epoch written to it; with failFirst its first Write fails
// (after the epoch's offsets are recorded), as a crash before the sink committed would.
type captureSink struct {
	mu        sync.Mutex
	failFirst bool
	rows      []string
}

func (s *captureSink) Open(*arrow.Schema, sinks.OutputMode, []int) error { return nil }
func (s *captureSink) Close() error                                      { return nil }
func (s *captureSink) Write(_ context.Context, epoch int64, deltas []exec.Delta) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failFirst {
		s.failFirst = false
		return errors.New("sink down")
	}
	for _, d := range deltas {
		for i := 0; i < int(d.Rec.NumRows()); i++ {
			cells := make([]string, d.Rec.NumCols())
			for c := range cells {
				cells[c] = exec.FormatValue(d.Rec.Column(c), i)
			}
			s.rows = append(s.rows, strings.Join(cells, "|"))
		}
	}
	return nil
}

func (s *captureSink) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]string(nil), s.rows...)
	sort.Strings(out)
	return out
}

// TestProcTimeBatchCounts is the lecture's "buys per 3-second batch": a PROCTIME() column is the
// epoch's time from the injected clock, and grouping by window(pt, '3 seconds') with a watermark
// on it counts each batch once in append mode.
func TestProcTimeBatchCounts(t *testing.T) {
	clock := &testClock{now: time.Date(2016, 3, 22, 20, 0, 0, 0, time.UTC)}
	sink := &captureSink{}
	eng, err := Open(Options{Clock: clock.Now, SinkConnectors: map[string]func(sinks.Config) (sinks.Sink, error){
		"capture": func(sinks.Config) (sinks.Sink, error) { return sink, nil }}})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	mustExec(t, eng, `CREATE SOURCE orders (side VARCHAR, pt AS PROCTIME(), WATERMARK FOR pt AS pt) WITH (connector = 'push')`)
	mustExec(t, eng, `CREATE SINK buys WITH (connector = 'capture', output_mode = 'append', trigger = 'manual') AS
		SELECT window_start, COUNT(*) AS buys FROM orders WHERE side = 'B' GROUP BY window(pt, '3 seconds')`)
	mustExec(t, eng, `CREATE MATERIALIZED VIEW seen WITH (trigger = 'manual') AS SELECT side, pt FROM orders`)
	// ProcessAllAvailable runs the epochs the data and the watermark call for at the clock's
	// present time, so here a later batch's rows close the window before it (with an interval
	// trigger, idle epochs move a PROCTIME() watermark with the clock: TestProcTimeIdleTrigger).
	batches := [][]string{{"B", "S", "B"}, {"B"}, {"S", "B", "B", "B"}, {"S"}}
	for i, b := range batches {
		rows := make([][]any, len(b))
		for j, side := range b {
			rows[j] = []any{side}
		}
		if len(rows) > 0 {
			if err := eng.Push("orders", rows); err != nil {
				t.Fatal(err)
			}
		}
		clock.Set(time.Date(2016, 3, 22, 20, 0, 3*i, 0, time.UTC))
		for _, q := range []string{"buys", "seen"} {
			if err := eng.ProcessAllAvailable(context.Background(), q); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := []string{"2016-03-22 20:00:00|2", "2016-03-22 20:00:03|1", "2016-03-22 20:00:06|3"}
	if got := sink.got(); !reflect.DeepEqual(got, want) {
		t.Fatalf("buys per batch: got %v, want %v", got, want)
	}
	if got := query(t, eng, "SELECT pt, COUNT(*) FROM seen GROUP BY pt"); !reflect.DeepEqual(got, []string{"2016-03-22 20:00:00|3", "2016-03-22 20:00:03|1", "2016-03-22 20:00:06|4", "2016-03-22 20:00:09|1"}) {
		t.Fatalf("processing times per batch: %v", got)
	}
}

// TestProcTimeReplaysTheRecordedTime: an epoch that failed after its offsets were recorded is
// re-run at the restart with the processing time of its offsets file, not the clock's new time.
func TestProcTimeReplaysTheRecordedTime(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	if err := os.Mkdir(in, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(in, "a.csv"), []byte("B\nS\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(dir, "ckpt")
	run := func(at time.Time, sink *captureSink) error {
		clock := &testClock{now: at}
		eng, err := Open(Options{Clock: clock.Now, SinkConnectors: map[string]func(sinks.Config) (sinks.Sink, error){
			"capture": func(sinks.Config) (sinks.Sink, error) { return sink, nil }}})
		if err != nil {
			t.Fatal(err)
		}
		defer eng.Close()
		mustExec(t, eng, `CREATE SOURCE orders (side VARCHAR, pt AS PROCTIME(), now_col AS now()) WITH (connector = 'files', format = 'csv', path = '`+in+`')`)
		_, err = eng.Exec(context.Background(), `CREATE SINK out WITH (connector = 'capture', trigger = 'available_now', checkpoint = '`+ckpt+`') AS SELECT side, pt, now_col, proctime() AS q FROM orders`)
		return err
	}
	first := time.Date(2016, 3, 22, 20, 55, 0, 0, time.UTC)
	if err := run(first, &captureSink{failFirst: true}); err == nil || !strings.Contains(err.Error(), "sink down") {
		t.Fatalf("the first run should fail in the sink, got %v", err)
	}
	sink := &captureSink{}
	if err := run(first.Add(time.Hour), sink); err != nil {
		t.Fatal(err)
	}
	want := []string{"B|2016-03-22 20:55:00|2016-03-22 20:55:00|2016-03-22 20:55:00", "S|2016-03-22 20:55:00|2016-03-22 20:55:00|2016-03-22 20:55:00"}
	if got := sink.got(); !reflect.DeepEqual(got, want) {
		t.Fatalf("replayed epoch: got %v, want %v (the time recorded in the offsets log)", got, want)
	}
}
