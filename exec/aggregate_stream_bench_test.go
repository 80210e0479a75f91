package exec

import (
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/watermark"
)

// BenchmarkStreamingWindowAgg: 10M events (k BIGINT of 1,000 values, ts TIMESTAMP, v BIGINT) in
// 64K-row batches through WindowAssign (10 s tumbling) into the streaming aggregate
// SELECT k, window, count(*), sum(v) GROUP BY k, window_start, window_end in append mode. Event
// time advances 10 µs per event (1M events = 10 s) with up to 2 s of disorder; epochs are 1M events
// and the watermark is max event time - 5 s. Batches are generated outside the timer.
//
//	go test -run '^$' -bench StreamingWindowAgg -cpu 1 -count 5 ./exec/
func BenchmarkStreamingWindowAgg(b *testing.B) {
	const (
		events = 10_000_000
		batch  = 64 * 1024
		epoch  = 1_000_000
		second = int64(1_000_000)
	)
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: Int64}, {Name: "ts", Type: Timestamp}, {Name: "v", Type: Int64}}, nil)
	out := arrow.NewSchema([]arrow.Field{{Name: "k", Type: Int64}, {Name: "window_start", Type: Timestamp},
		{Name: "window_end", Type: Timestamp}, {Name: "n", Type: Int64}, {Name: "s", Type: Int64, Nullable: true}}, nil)
	mem := memory.DefaultAllocator
	ctx := newTestCtx(mem)
	kb, tb, vb := array.NewInt64Builder(mem), array.NewTimestampBuilder(mem, Timestamp.(*arrow.TimestampType)), array.NewInt64Builder(mem)
	defer kb.Release()
	defer tb.Release()
	defer vb.Release()
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		r := rand.New(rand.NewPCG(1, 2))
		wa, err := NewWindowAssign(schema, 1, 10*second, 10*second)
		if err != nil {
			b.Fatal(err)
		}
		agg, err := NewStreamingHashAggregate(wa.Schema(), []int{0, 3, 4}, []AggSpec{{Kind: AggCountStar}, {Kind: AggSum, Col: 2}}, out,
			AggStreamOptions{Emit: AggEmitClosed, EventTimeCol: 2})
		if err != nil {
			b.Fatal(err)
		}
		gen := watermark.NewGenerator(5 * second)
		push := func(d Delta) error { return agg.Push(ctx, 0, d, nil) }
		emitted := int64(0)
		count := func(d Delta) error { emitted += d.Rec.NumRows(); return nil }
		ctx.Watermark = watermark.MinTime
		inEpoch := 0
		for done := 0; done < events; {
			n := min(batch, events-done, epoch-inEpoch)
			b.StopTimer()
			for i := 0; i < n; i++ {
				kb.Append(r.Int64N(1000))
				tb.Append(arrow.Timestamp(int64(done+i)*10 - r.Int64N(2*second)))
				vb.Append(r.Int64N(1000))
			}
			cols := []arrow.Array{kb.NewArray(), tb.NewArray(), vb.NewArray()}
			rec := array.NewRecordBatch(schema, cols, int64(n))
			for _, c := range cols {
				c.Release()
			}
			b.StartTimer()
			if err := wa.Push(ctx, 0, Delta{Rec: rec}, push); err != nil {
				b.Fatal(err)
			}
			gen.Observe(watermark.Time(int64(done+n-1) * 10))
			rec.Release()
			done += n
			if inEpoch += n; inEpoch == epoch || done == events {
				if err := agg.Flush(ctx, ctx.Watermark, count); err != nil {
					b.Fatal(err)
				}
				ctx.Watermark = gen.Current()
				inEpoch = 0
			}
		}
		if err := agg.Flush(ctx, watermark.MaxTime, count); err != nil {
			b.Fatal(err)
		}
		if emitted != 1000*11 || agg.DroppedLate() != 0 {
			b.Fatalf("emitted %d groups (want 11,000: windows -10 s to 100 s), dropped %d", emitted, agg.DroppedLate())
		}
		agg.Close()
	}
	total := float64(events) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), "events/s")
}
