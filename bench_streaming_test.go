package streamsql

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/incremental"
	"github.com/streamsql/streamsql/internal/benchutil"
	"github.com/streamsql/streamsql/sinks"
	"github.com/streamsql/streamsql/sources"
	"github.com/streamsql/streamsql/sql"
)

// Streaming benchmarks through the whole engine: SQL text, the incremental driver, the datagen
// source, window assignment, the streaming aggregate with watermark and eviction, and a sink whose
// output is discarded: either the console sink in append mode writing JSON to io.Discard (the
// whole product path, formatting included), or ("Discard" variants) the same bound plan started
// on the incremental driver with discardSink, which counts rows and drops them, so the figure is
// the streaming core's. A materialized view is not used: it always holds the complete result
// (complete mode), so it never evicts a window and re-emits the whole table every epoch.
//
//	go test -run '^$' -bench StreamingDatagen -cpu 1 -count 5 -benchtime 1x .
//
// STREAMSQL_BENCH_EVENTS overrides the number of events (default 20M). Reported: events/s (wall)
// and cpu-ns/event (process user+system CPU time per event, the figure that is stable on a shared
// machine).

func benchStreamEvents(b *testing.B) int {
	if s := os.Getenv("STREAMSQL_BENCH_EVENTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("STREAMSQL_BENCH_EVENTS: want a positive integer, got %q", s)
		}
		return n
	}
	return 20_000_000
}

// steppingClock returns a clock that advances one hour per call from a fixed start: a rate-limited
// datagen source then always has more rows due than max_rows_per_trigger, so every epoch is
// exactly that many rows whatever the machine's speed, and the run is deterministic.
func steppingClock() func() time.Time {
	t := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time {
		t = t.Add(time.Hour)
		return t
	}
}

// discardSink counts the rows of each epoch and drops them.
type discardSink struct{ rows int64 }

func (d *discardSink) Open(*arrow.Schema, sinks.OutputMode, []int) error { return nil }
func (d *discardSink) Close() error                                      { return nil }
func (d *discardSink) Write(_ context.Context, _ int64, deltas []exec.Delta) error {
	for _, r := range deltas {
		d.rows += r.Rec.NumRows()
	}
	return nil
}

// startDiscardQuery binds the query of a CREATE SINK statement against eng's catalog and starts it
// on the incremental driver with a manual trigger, append mode and a discardSink: what
// Engine.prepareQuery does for a console sink, minus the console.
func startDiscardQuery(b *testing.B, eng *Engine, stmt string, sink sinks.Sink) *incremental.Query {
	parsed, err := sql.Parse(stmt)
	if err != nil {
		b.Fatal(err)
	}
	cs := parsed.(*sql.CreateSink)
	plan, err := sql.BindQuery(eng.catalog, cs.Query)
	if err != nil {
		b.Fatal(err)
	}
	src := eng.catalog.sources["ev"]
	st, err := sources.OpenStream(eng.streamConfig(src, nil))
	if err != nil {
		b.Fatal(err)
	}
	q, err := incremental.Start(incremental.Config{
		Name: cs.Name, Plan: plan, Mode: sinks.Append, Sink: sink, SinkName: "discard",
		Inputs:  []*incremental.Input{{Name: src.name, Stream: st, TimeCol: src.timeCol, Delay: src.delay}},
		Trigger: incremental.Trigger{Manual: true}, Clock: eng.opts.Clock, Mem: eng.opts.Allocator, Logger: eng.opts.Logger,
	})
	if err != nil {
		b.Fatal(err)
	}
	return q
}

// runDatagenWindow runs the windowed count/sum over events datagen rows in epochs of 1M rows and
// returns the rows the sink received. rate is datagen's rows_per_second ('unbounded': event time
// advances 1 ms per row; a number r: 1/r seconds per row). discard selects discardSink over the
// console sink.
func runDatagenWindow(b *testing.B, events int, rate string, discard bool) int64 {
	opts := Options{Stdout: io.Discard}
	if rate != "unbounded" {
		opts.Clock = steppingClock()
	}
	eng, err := Open(opts)
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	ctx := context.Background()
	source := fmt.Sprintf(`CREATE SOURCE ev (ts TIMESTAMP, k VARCHAR, v BIGINT, WATERMARK FOR ts AS ts - INTERVAL '5 seconds')
WITH (connector = 'datagen', rows_per_second = '%s', max_rows_per_trigger = '1000000', number_of_rows = '%d', seed = '1')`, rate, events)
	sink := `CREATE SINK out WITH (connector = 'console', output_mode = 'append', format = 'json', trigger = 'manual') AS
SELECT k, window(ts, '10 seconds') AS w, COUNT(*) AS n, SUM(v) AS s FROM ev GROUP BY k, window(ts, '10 seconds')`
	if _, err := eng.Exec(ctx, source); err != nil {
		b.Fatal(err)
	}
	var q *incremental.Query
	if discard {
		q = startDiscardQuery(b, eng, sink, &discardSink{})
		defer q.Stop()
	} else {
		if _, err := eng.Exec(ctx, sink); err != nil {
			b.Fatal(err)
		}
		q = eng.queries.get("out").q
	}
	// A rate-limited datagen starts its clock at its first Latest, which therefore offers no row:
	// the first ProcessAllAvailable may stop at once, the second sees an hour of rows due.
	var in, out int64
	for try := 0; try < 2 && in < int64(events); try++ {
		if err := q.ProcessAllAvailable(ctx); err != nil {
			b.Fatal(err)
		}
		in, out = 0, 0
		for _, p := range q.RecentProgress() {
			in += p.NumInputRows
			out += p.OutputRows
		}
	}
	if in != int64(events) {
		b.Fatalf("query read %d rows, want %d", in, events)
	}
	return out
}

func benchmarkDatagenWindow(b *testing.B, rate string, discard bool) {
	events := benchStreamEvents(b)
	var out int64
	cpu0 := benchutil.ProcessCPUTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out = runDatagenWindow(b, events, rate, discard)
	}
	b.StopTimer()
	cpu := benchutil.ProcessCPUTime() - cpu0
	total := float64(events) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), "events/s")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/total, "cpu-ns/event")
	}
	b.ReportMetric(float64(out), "out-rows")
}

// BenchmarkStreamingDatagenWindow is the query as given: datagen at rows_per_second =
// 'unbounded', where event time advances 1 ms per row, so a 1M-row epoch spans 1,000 s of event
// time: 100 windows of 1,000 keys (100K groups) are built, emitted and evicted per epoch, and the
// sink receives one row per 10 events.
func BenchmarkStreamingDatagenWindow(b *testing.B) { benchmarkDatagenWindow(b, "unbounded", false) }

// BenchmarkStreamingDatagenWindowDiscard is BenchmarkStreamingDatagenWindow with discardSink.
func BenchmarkStreamingDatagenWindowDiscard(b *testing.B) {
	benchmarkDatagenWindow(b, "unbounded", true)
}

// BenchmarkStreamingDatagenWindowDense is the same query at 100,000 rows per second of event time
// (10 µs per row, the density of exec's BenchmarkStreamingWindowAgg): a 1M-row epoch is one 10 s
// window, so about 1,000 groups are emitted and evicted per epoch. Driven by steppingClock.
func BenchmarkStreamingDatagenWindowDense(b *testing.B) { benchmarkDatagenWindow(b, "100000", false) }

// BenchmarkStreamingDatagenWindowDenseDiscard is BenchmarkStreamingDatagenWindowDense with
// discardSink.
func BenchmarkStreamingDatagenWindowDenseDiscard(b *testing.B) {
	benchmarkDatagenWindow(b, "100000", true)
}

// BenchmarkStreamingFilesWindow is `streamsql bench`'s job in-process: CSV files `ts,k,v` read by
// the files connector one file per epoch (max_files_per_trigger 1, trigger available_now), a 60 s
// tumbling COUNT/SUM by key with a 5 s watermark, append mode into discardSink. The files are
// STREAMSQL_BENCH_FILES_DIR's (e.g. the in-10 directory `streamsql bench --dir D` leaves in D);
// without it, 10 files of a tenth of STREAMSQL_BENCH_EVENTS (default here 10M) rows each are
// written by writeEventsFrom before the timer starts.
func BenchmarkStreamingFilesWindow(b *testing.B) {
	dir := os.Getenv("STREAMSQL_BENCH_FILES_DIR")
	if dir == "" {
		dir = b.TempDir()
		total := 10_000_000
		if os.Getenv("STREAMSQL_BENCH_EVENTS") != "" {
			total = benchStreamEvents(b)
		}
		per := total / 10
		for f := 0; f < 10; f++ {
			writeEventsFrom(b, filepath.Join(dir, fmt.Sprintf("events-%05d.csv", f)), f*per, per)
		}
	}
	ctx := context.Background()
	var events int64
	cpu0 := benchutil.ProcessCPUTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		eng, err := Open(Options{Stdout: io.Discard})
		if err != nil {
			b.Fatal(err)
		}
		src := fmt.Sprintf(`CREATE SOURCE ev (ts TIMESTAMP, k VARCHAR, v BIGINT, WATERMARK FOR ts AS ts - INTERVAL '5 seconds')
WITH (connector = 'files', path = '%s', format = 'csv', max_files_per_trigger = '1')`, dir)
		if _, err := eng.Exec(ctx, src); err != nil {
			b.Fatal(err)
		}
		q := startDiscardQuery(b, eng, `CREATE SINK out WITH (connector = 'console', trigger = 'manual') AS
SELECT k, window(ts, '60 seconds') AS w, COUNT(*) AS n, SUM(v) AS s FROM ev GROUP BY k, window(ts, '60 seconds')`, &discardSink{})
		if err := q.ProcessAllAvailable(ctx); err != nil {
			b.Fatal(err)
		}
		events = 0
		for _, p := range q.RecentProgress() {
			events += p.NumInputRows
		}
		q.Stop()
		eng.Close()
	}
	b.StopTimer()
	cpu := benchutil.ProcessCPUTime() - cpu0
	total := float64(events) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), "events/s")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/total, "cpu-ns/event")
	}
}

// writeEventsFrom writes rows first..first+n-1 of an event sequence shaped like the one
// `streamsql bench` generates (timestamps 1 ms apart with up to 2 s of disorder, 1,000 keys
// key000..key999, v < 1000), as CSV lines `ts,k,v`.
func writeEventsFrom(b *testing.B, path string, first, n int) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := first; i < first+n; i++ {
		h := uint64(i+1) * 0x9E3779B97F4A7C15
		h ^= h >> 29
		jitter := time.Duration(h%2000) * time.Millisecond
		ts := base.Add(time.Duration(i)*time.Millisecond - jitter).Format("2006-01-02 15:04:05.000")
		fmt.Fprintf(w, "%s,key%03d,%d\n", ts, h>>20%1000, h>>40%1000)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}
