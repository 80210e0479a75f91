package exec

import (
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/watermark"
)

// BenchmarkSymmetricHashJoin: two streams (k BIGINT of 10,000 values, ts TIMESTAMP, v BIGINT) in
// 1,024-row batches, joined on k. Each side keeps a sliding window of 16 batches (16K rows, ~1.6
// per key): every step pushes a new batch to each side and retracts that side's batch from 16
// steps earlier (weights -1), so state and output per step are steady (every input row meets ~1.6
// rows on the other side). Epochs (Flush) are 16 steps. Batches are built before the timer
// starts. ns/row is wall time per input row (inserts and retractions), cpu-ns/row process CPU time
// per input row, out/row the join rows emitted per input row.
//
//	go test -run '^$' -bench SymmetricHashJoin -cpu 1 -count 5 ./exec/
func BenchmarkSymmetricHashJoin(b *testing.B) {
	for _, kind := range []StreamJoinKind{StreamJoinInner, StreamJoinFull} {
		b.Run(kind.String(), func(b *testing.B) { benchSymJoin(b, kind) })
	}
}

func benchSymJoin(b *testing.B, kind StreamJoinKind) {
	const (
		keys    = 10_000
		batch   = 1024
		cycle   = 64 // distinct batches per side, reused round-robin
		window  = 16 // batches kept per side before retraction
		perStep = 4 * batch
	)
	mem := memory.DefaultAllocator
	ctx := newTestCtx(mem)
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: Int64}, {Name: "ts", Type: Timestamp}, {Name: "v", Type: Int64}}, nil)
	r := rand.New(rand.NewPCG(1, 2))
	var recs [2][cycle]arrow.RecordBatch
	for s := range recs {
		for i := range recs[s] {
			kb, tb, vb := array.NewInt64Builder(mem), array.NewTimestampBuilder(mem, Timestamp.(*arrow.TimestampType)), array.NewInt64Builder(mem)
			for k := 0; k < batch; k++ {
				kb.Append(r.Int64N(keys))
				tb.Append(arrow.Timestamp(1_700_000_000_000_000 + int64(i*batch+k)))
				vb.Append(int64(i*batch + k))
			}
			cols := []arrow.Array{kb.NewArray(), tb.NewArray(), vb.NewArray()}
			recs[s][i] = array.NewRecordBatch(schema, cols, batch)
			releaseArrays(cols)
			kb.Release()
			tb.Release()
			vb.Release()
		}
	}
	wb := array.NewInt64Builder(mem)
	for k := 0; k < batch; k++ {
		wb.Append(-1)
	}
	minus := wb.NewInt64Array()
	wb.Release()
	defer func() {
		for s := range recs {
			releaseRecords(recs[s][:])
		}
		minus.Release()
	}()
	j, err := NewSymmetricHashJoin(kind, schema, schema, []int{0}, []int{0}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	var out int64
	emit := func(d Delta) error { out += d.Rec.NumRows(); return nil }
	step := func(i int) {
		for s := 0; s < 2; s++ {
			if err := j.Push(ctx, s, Delta{Rec: recs[s][i%cycle]}, emit); err != nil {
				b.Fatal(err)
			}
			if i >= window {
				if err := j.Push(ctx, s, Delta{Rec: recs[s][(i-window)%cycle], Weights: minus}, emit); err != nil {
					b.Fatal(err)
				}
			}
		}
		if i%16 == 15 {
			if err := j.Flush(ctx, watermark.MinTime, emit); err != nil {
				b.Fatal(err)
			}
		}
	}
	for i := 0; i < 2*window; i++ { // warm up to the steady state
		step(i)
	}
	out = 0
	cpu0 := aggProcessCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step(2*window + i)
	}
	b.StopTimer()
	rows := float64(b.N) * perStep
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/rows, "ns/row")
	b.ReportMetric(float64((aggProcessCPU()-cpu0).Nanoseconds())/rows, "cpu-ns/row")
	b.ReportMetric(float64(out)/rows, "out/row")
	b.ReportMetric(float64(j.StateRows()), "state-rows")
}
