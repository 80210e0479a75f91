package exec

import (
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/watermark"
)

// BenchmarkTopN: ORDER BY v DESC LIMIT 10 over a stream (k BIGINT, v BIGINT random) in 1,024-row
// batches, as one partition ("global") and partitioned by k of 1,000 values ("by-key"). The
// operator keeps a sliding window of 256 batches (256K rows): every step pushes a new batch and
// retracts the one from 256 steps earlier; an epoch (Flush) is 16 steps. ns/row and cpu-ns/row are
// per input row (inserts and retractions).
//
//	go test -run '^$' -bench TopN -cpu 1 -count 5 ./exec/
func BenchmarkTopN(b *testing.B) {
	b.Run("global", func(b *testing.B) { benchTopN(b, nil) })
	b.Run("by-key", func(b *testing.B) { benchTopN(b, []int{0}) })
}

func benchTopN(b *testing.B, part []int) {
	const (
		batch   = 1024
		cycle   = 512
		window  = 256
		perStep = 2 * batch
	)
	mem := memory.DefaultAllocator
	ctx := newTestCtx(mem)
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: Int64}, {Name: "v", Type: Int64}}, nil)
	r := rand.New(rand.NewPCG(3, 4))
	var recs [cycle]arrow.RecordBatch
	for i := range recs {
		kb, vb := array.NewInt64Builder(mem), array.NewInt64Builder(mem)
		for k := 0; k < batch; k++ {
			kb.Append(r.Int64N(1000))
			vb.Append(r.Int64())
		}
		cols := []arrow.Array{kb.NewArray(), vb.NewArray()}
		recs[i] = array.NewRecordBatch(schema, cols, batch)
		releaseArrays(cols)
		kb.Release()
		vb.Release()
	}
	wb := array.NewInt64Builder(mem)
	for k := 0; k < batch; k++ {
		wb.Append(-1)
	}
	minus := wb.NewInt64Array()
	wb.Release()
	defer func() {
		releaseRecords(recs[:])
		minus.Release()
	}()
	t, err := NewTopN(schema, part, []SortKey{{Col: 1, Desc: true, NullsFirst: true}}, 10, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer t.Close()
	var out int64
	emit := func(d Delta) error { out += d.Rec.NumRows(); return nil }
	step := func(i int) {
		if err := t.Push(ctx, 0, Delta{Rec: recs[i%cycle]}, emit); err != nil {
			b.Fatal(err)
		}
		if i >= window {
			if err := t.Push(ctx, 0, Delta{Rec: recs[(i-window)%cycle], Weights: minus}, emit); err != nil {
				b.Fatal(err)
			}
		}
		if i%16 == 15 {
			if err := t.Flush(ctx, watermark.MinTime, emit); err != nil {
				b.Fatal(err)
			}
		}
	}
	for i := 0; i < window+16; i++ {
		step(i)
	}
	cpu0 := aggProcessCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step(window + 16 + i)
	}
	b.StopTimer()
	rows := float64(b.N) * perStep
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/rows, "ns/row")
	b.ReportMetric(float64((aggProcessCPU()-cpu0).Nanoseconds())/rows, "cpu-ns/row")
	b.ReportMetric(float64(t.StateRows()), "state-rows")
}
