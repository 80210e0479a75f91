package streamsql

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/streamsql/streamsql/incremental"
	"github.com/streamsql/streamsql/internal/benchutil"
	"github.com/streamsql/streamsql/sinks"
	"github.com/streamsql/streamsql/sources"
	"github.com/streamsql/streamsql/sql"
)

// Benchmarks of the event-time operators in append mode, over datagen streams (k BIGINT random
// 0..9999, ts the event time: 1 ms per row, so 1M rows are 1,000 s; watermark delay 1 s) in
// epochs of max_rows_per_trigger rows per stream, into discardSink. Reported: input events/s
// (wall), cpu-ns/event, the largest state (rows, all operators) after any epoch and the state
// after the last one.
//
//	go test -run '^$' -bench 'StreamingIntervalJoin|StreamingDedup' -cpu 1 -count 5 -benchtime 1x .
//
// STREAMSQL_BENCH_EVENTS sets the events per stream (default 2M).

func BenchmarkStreamingIntervalJoin(b *testing.B) {
	// About one match per row: b rows of the key within 10 s after the a row (10,000 rows of
	// 10,000 keys).
	benchEventTime(b, []string{"a", "b"},
		"SELECT a.k, a.ts, b.ts AS bts FROM a JOIN b ON a.k = b.k AND b.ts BETWEEN a.ts AND a.ts + INTERVAL '10 seconds'")
}

func BenchmarkStreamingDedup(b *testing.B) {
	// The two streams have the same seed: every row arrives twice.
	benchEventTime(b, []string{"a", "a2"},
		"SELECT DISTINCT k, ts FROM (SELECT k, ts FROM a UNION ALL SELECT k, ts FROM a2) u")
}

func benchEventTime(b *testing.B, streams []string, query string) {
	events := 2_000_000
	if benchEventsSet() {
		events = benchStreamEvents(b)
	}
	ctx := context.Background()
	var peak, last int64
	cpu0 := benchutil.ProcessCPUTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		eng, err := Open(Options{Stdout: io.Discard})
		if err != nil {
			b.Fatal(err)
		}
		seeds := map[string]int{"a": 1, "b": 2, "a2": 1}
		for _, name := range streams {
			ddl := fmt.Sprintf(`CREATE SOURCE %s (k BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '1 second') WITH (connector = 'datagen',
				rows_per_second = 'unbounded', max_rows_per_trigger = '100000', number_of_rows = '%d', seed = '%d',
				fields.k.kind = 'random', fields.k.min = '0', fields.k.max = '9999')`, name, events, seeds[name])
			if _, err := eng.Exec(ctx, ddl); err != nil {
				b.Fatal(err)
			}
		}
		parsed, err := sql.Parse("CREATE SINK out WITH (connector = 'console', output_mode = 'append', trigger = 'manual') AS " + query)
		if err != nil {
			b.Fatal(err)
		}
		plan, err := sql.BindQuery(eng.catalog, parsed.(*sql.CreateSink).Query)
		if err != nil {
			b.Fatal(err)
		}
		var inputs []*incremental.Input
		for _, name := range streams {
			src := eng.catalog.sources[name]
			st, err := sources.OpenStream(eng.streamConfig(src, nil))
			if err != nil {
				b.Fatal(err)
			}
			inputs = append(inputs, &incremental.Input{Name: name, Stream: st, TimeCol: src.timeCol, Delay: src.delay})
		}
		sink := &discardSink{}
		peak = 0
		q, err := incremental.Start(incremental.Config{Name: "out", Plan: plan, Mode: sinks.Append, Sink: sink,
			SinkName: "discard", Inputs: inputs, Trigger: incremental.Trigger{Manual: true},
			OnProgress: func(p incremental.Progress) {
				var n int64
				for _, s := range p.StateOperators {
					n += s.Rows
				}
				peak = max(peak, n)
				last = n
			}})
		if err != nil {
			b.Fatal(err)
		}
		if err := q.ProcessAllAvailable(ctx); err != nil {
			b.Fatal(err)
		}
		if sink.rows == 0 {
			b.Fatal("the query emitted nothing")
		}
		q.Stop()
		eng.Close()
	}
	b.StopTimer()
	cpu := benchutil.ProcessCPUTime() - cpu0
	total := float64(events*len(streams)) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), "events/s")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/total, "cpu-ns/event")
	}
	b.ReportMetric(float64(peak), "peak-state-rows")
	b.ReportMetric(float64(last), "final-state-rows")
}
