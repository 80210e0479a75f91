package exec_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/internal/benchutil"
	"github.com/streamsql/streamsql/watermark"
)

// The Deduplicate operator alone, as BenchmarkStreamingDedup drives it: epochs of 2 x 100,000
// rows (k BIGINT random 0..9999, ts TIMESTAMP advancing 1 ms per row), every row arriving twice
// (the same batch pushed again), in batches of 4,096 rows; after each epoch the watermark moves to
// the epoch's last event time - 1 s and Flush evicts. One op is one epoch; events/s counts both
// copies; cpu-ns/event is the process's CPU time per event.
//
//	go test ./exec -run '^$' -bench 'Deduplicate' -cpu 1 -count 5
func BenchmarkDeduplicateBigintTimestamp(b *testing.B) {
	benchDeduplicate(b, exec.Int64, exec.DedupOptions{})
}

// Keep-first (ROW_NUMBER() ... = 1) by a VARCHAR id of 100,000 values, held 1 s beyond the
// watermark: the bytes key layout.
func BenchmarkDeduplicateKeepFirstVarchar(b *testing.B) {
	benchDeduplicate(b, exec.String, exec.DedupOptions{Keys: []int{0}, Hold: 1_000_000})
}

func benchDeduplicate(b *testing.B, keyType arrow.DataType, opts exec.DedupOptions) {
	const epochRows, batch = 100_000, 4096
	in := arrow.NewSchema([]arrow.Field{{Name: "k", Type: keyType, Nullable: true}, {Name: "ts", Type: exec.Timestamp, Nullable: true}}, nil)
	mem := memory.NewGoAllocator()
	r := rand.New(rand.NewPCG(1, 2))
	// Pre-build a few epochs of batches; event times are shifted per epoch by rebuilding the ts
	// column only, outside the timer.
	const epochsBuilt = 4
	type epoch struct{ recs []arrow.RecordBatch }
	var epochs []epoch
	var ts int64
	for e := 0; e < epochsBuilt; e++ {
		var ep epoch
		for lo := 0; lo < epochRows; lo += batch {
			n := min(batch, epochRows-lo)
			kb := array.NewBuilder(mem, keyType)
			tb := array.NewTimestampBuilder(mem, exec.Timestamp.(*arrow.TimestampType))
			for i := 0; i < n; i++ {
				switch kb := kb.(type) {
				case *array.Int64Builder:
					kb.Append(r.Int64N(10_000))
				case *array.StringBuilder:
					kb.Append("user-" + string(rune('a'+r.IntN(26))) + string(rune('a'+r.IntN(26))) + string(rune('0'+r.IntN(10))) + string(rune('0'+r.IntN(10))) + string(rune('0'+r.IntN(15))))
				}
				tb.Append(arrow.Timestamp(ts))
				ts += 1000
			}
			k, t := kb.NewArray(), tb.NewArray()
			ep.recs = append(ep.recs, array.NewRecordBatch(in, []arrow.Array{k, t}, int64(n)))
			k.Release()
			t.Release()
			kb.Release()
			tb.Release()
		}
		epochs = append(epochs, ep)
	}
	d, err := exec.NewDeduplicate(in, []int{0, 1}, 1, in, opts)
	if err != nil {
		b.Fatal(err)
	}
	ctx := exec.NewCtx(context.Background(), time.Time{})
	ctx.Mem, ctx.Watermark = mem, watermark.MinTime
	emitted := 0
	emit := func(dl exec.Delta) error { emitted += int(dl.Rec.NumRows()); return nil }
	cpu0 := benchutil.ProcessCPUTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i > 0 && i%epochsBuilt == 0 { // the event times start again: begin afresh
			b.StopTimer()
			d.Close()
			if d, err = exec.NewDeduplicate(in, []int{0, 1}, 1, in, opts); err != nil {
				b.Fatal(err)
			}
			ctx.Watermark = watermark.MinTime
			b.StartTimer()
		}
		ep := epochs[i%epochsBuilt]
		for _, rec := range ep.recs {
			for copy := 0; copy < 2; copy++ {
				if err := d.Push(ctx, 0, exec.Delta{Rec: rec}, emit); err != nil {
					b.Fatal(err)
				}
			}
		}
		last := ep.recs[len(ep.recs)-1].Column(1).(*array.Timestamp)
		wm := watermark.Time(int64(last.Value(last.Len()-1)) - 1_000_000)
		if err := d.Flush(ctx, wm, emit); err != nil {
			b.Fatal(err)
		}
		ctx.Watermark = wm
	}
	b.StopTimer()
	events := float64(2*epochRows) * float64(b.N)
	b.ReportMetric(events/b.Elapsed().Seconds(), "events/s")
	if cpu := benchutil.ProcessCPUTime() - cpu0; cpu > 0 {
		// Process CPU time per event (it includes the untimed restarts every 4 epochs): on a
		// shared machine the wall rate falls with the load, this does much less.
		b.ReportMetric(float64(cpu.Nanoseconds())/events, "cpu-ns/event")
	}
	b.ReportMetric(float64(d.StateRows()), "state-rows")
	d.Close()
	for _, ep := range epochs {
		for _, rec := range ep.recs {
			rec.Release()
		}
	}
	if emitted == 0 {
		b.Fatal("nothing emitted")
	}
}
