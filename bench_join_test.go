package streamsql

import (
	"context"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/streamsql/streamsql/incremental"
	"github.com/streamsql/streamsql/internal/benchutil"
	"github.com/streamsql/streamsql/sinks"
	"github.com/streamsql/streamsql/sources"
	"github.com/streamsql/streamsql/sql"
)

// BenchmarkStreamingJoinAggregate: a join of two datagen streams followed by an aggregation, in
// update mode, into discardSink:
//
//	SELECT b.g, COUNT(*), SUM(a.v) FROM a JOIN b ON a.k = b.k GROUP BY b.g
//
// b is 10,000 rows, one per key (k a sequence 0..9999, g random 0..99); a is STREAMSQL_BENCH_EVENTS
// rows (default 2M here) with random keys 0..9999. Both streams run unbounded in epochs of up to
// 1M rows each, so b arrives in the first epoch and every later a row joins one b row: the join
// (SymmetricHashJoin) keeps every row of both sides, the aggregate 100 groups. Reported: input
// events/s (wall), cpu-ns/event and the state rows after the run (both join sides, the groups).
//
//	go test -run '^$' -bench StreamingJoinAggregate -cpu 1 -count 5 -benchtime 1x .
func BenchmarkStreamingJoinAggregate(b *testing.B) {
	events := 2_000_000
	if b.N > 0 && benchEventsSet() {
		events = benchStreamEvents(b)
	}
	ctx := context.Background()
	var stateRows int64
	cpu0 := benchutil.ProcessCPUTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		eng, err := Open(Options{Stdout: io.Discard})
		if err != nil {
			b.Fatal(err)
		}
		for _, ddl := range []string{
			fmt.Sprintf(`CREATE SOURCE a (k BIGINT, v BIGINT) WITH (connector = 'datagen', rows_per_second = 'unbounded',
				max_rows_per_trigger = '1000000', number_of_rows = '%d', seed = '1', fields.k.kind = 'random', fields.k.min = '0', fields.k.max = '9999',
				fields.v.kind = 'random', fields.v.min = '0', fields.v.max = '1000')`, events),
			`CREATE SOURCE b (k BIGINT, g BIGINT) WITH (connector = 'datagen', rows_per_second = 'unbounded',
				max_rows_per_trigger = '1000000', number_of_rows = '10000', seed = '2', fields.k.kind = 'sequence', fields.k.min = '0', fields.k.max = '9999',
				fields.g.kind = 'random', fields.g.min = '0', fields.g.max = '99')`,
		} {
			if _, err := eng.Exec(ctx, ddl); err != nil {
				b.Fatal(err)
			}
		}
		parsed, err := sql.Parse(`CREATE SINK out WITH (connector = 'console', trigger = 'manual') AS
SELECT b.g, COUNT(*) AS n, SUM(a.v) AS s FROM a JOIN b ON a.k = b.k GROUP BY b.g`)
		if err != nil {
			b.Fatal(err)
		}
		plan, err := sql.BindQuery(eng.catalog, parsed.(*sql.CreateSink).Query)
		if err != nil {
			b.Fatal(err)
		}
		var inputs []*incremental.Input
		for _, name := range []string{"a", "b"} {
			src := eng.catalog.sources[name]
			st, err := sources.OpenStream(eng.streamConfig(src, nil))
			if err != nil {
				b.Fatal(err)
			}
			inputs = append(inputs, &incremental.Input{Name: name, Stream: st, TimeCol: -1})
		}
		q, err := incremental.Start(incremental.Config{Name: "out", Plan: plan, Mode: sinks.Update, Sink: &discardSink{},
			SinkName: "discard", Inputs: inputs, Trigger: incremental.Trigger{Manual: true}})
		if err != nil {
			b.Fatal(err)
		}
		if err := q.ProcessAllAvailable(ctx); err != nil {
			b.Fatal(err)
		}
		var in int64
		for _, p := range q.RecentProgress() {
			in += p.NumInputRows
		}
		if in != int64(events)+10_000 {
			b.Fatalf("read %d rows, want %d", in, events+10_000)
		}
		stateRows = 0
		for _, s := range q.LastProgress().StateOperators {
			stateRows += s.Rows
		}
		q.Stop()
		eng.Close()
	}
	b.StopTimer()
	cpu := benchutil.ProcessCPUTime() - cpu0
	total := float64(events+10_000) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), "events/s")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/total, "cpu-ns/event")
	}
	b.ReportMetric(float64(stateRows), "state-rows")
}

func benchEventsSet() bool { return os.Getenv("STREAMSQL_BENCH_EVENTS") != "" }
