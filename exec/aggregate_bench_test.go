package exec

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/watermark"
)

// Benchmarks of HashAggregate over 10M rows held in Arrow memory as 64K-row batches, built before
// the timer starts. Run with -cpu 1: the operator is single-threaded and the figure is per core.
//
//	go test -run '^$' -bench HashAggregate -cpu 1 -count 5 ./exec/

const (
	aggBenchRows   = 10_000_000
	aggBenchBatch  = 64 * 1024
	aggBenchGroups = 1000
)

// aggBenchBatches builds the input: ki (BIGINT, 1,000 random 64-bit values) and ks (VARCHAR, 6 to 8
// bytes) are two spellings of the same key, one of 1,000 drawn uniformly per row, and v is a BIGINT. The caller releases
// the records.
func aggBenchBatches(b *testing.B) (*arrow.Schema, []arrow.RecordBatch) {
	b.Helper()
	schema := arrow.NewSchema([]arrow.Field{{Name: "ki", Type: Int64}, {Name: "ks", Type: String}, {Name: "v", Type: Int64}}, nil)
	r := rand.New(rand.NewPCG(7, 11))
	names := make([]string, aggBenchGroups)
	keysI := make([]int64, aggBenchGroups)
	for i := range keysI {
		keysI[i] = r.Int64()
	}
	for i := range names {
		names[i] = fmt.Sprintf("g%03d-%x", i, r.Uint32()%4096)
	}
	mem := memory.DefaultAllocator
	var recs []arrow.RecordBatch
	for done := 0; done < aggBenchRows; done += aggBenchBatch {
		n := min(aggBenchBatch, aggBenchRows-done)
		ib, sb, vb := array.NewInt64Builder(mem), array.NewStringBuilder(mem), array.NewInt64Builder(mem)
		for i := 0; i < n; i++ {
			g := r.IntN(aggBenchGroups)
			ib.Append(keysI[g])
			sb.Append(names[g])
			vb.Append(r.Int64N(1_000_000))
		}
		cols := []arrow.Array{ib.NewArray(), sb.NewArray(), vb.NewArray()}
		ib.Release()
		sb.Release()
		vb.Release()
		recs = append(recs, array.NewRecordBatch(schema, cols, int64(n)))
		for _, c := range cols {
			c.Release()
		}
	}
	return schema, recs
}

func benchHashAggregate(b *testing.B, groupCols []int, aggs []AggSpec) {
	schema, recs := aggBenchBatches(b)
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	var fs []arrow.Field
	for _, c := range groupCols {
		fs = append(fs, schema.Field(c))
	}
	for i, a := range aggs {
		var arg arrow.DataType
		if a.Kind != AggCountStar {
			arg = schema.Field(a.Col).Type
		}
		rt, err := AggResultType(a.Kind, arg)
		if err != nil {
			b.Fatal(err)
		}
		fs = append(fs, arrow.Field{Name: fmt.Sprintf("a%d", i), Type: rt, Nullable: true})
	}
	out := arrow.NewSchema(fs, nil)
	ctx := newTestCtx(memory.DefaultAllocator)
	b.ResetTimer()
	cpu0 := aggProcessCPU()
	for i := 0; i < b.N; i++ {
		op, err := NewHashAggregate(schema, groupCols, aggs, out)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			if err := op.Push(ctx, 0, Delta{Rec: r}, nil); err != nil {
				b.Fatal(err)
			}
		}
		groups := int64(0)
		if err := op.Flush(ctx, watermark.MaxTime, func(d Delta) error { groups += d.Rec.NumRows(); return nil }); err != nil {
			b.Fatal(err)
		}
		if groups != aggBenchGroups {
			b.Fatalf("%d groups, want %d", groups, aggBenchGroups)
		}
		op.Close()
	}
	rows := float64(aggBenchRows) * float64(b.N)
	b.ReportMetric(rows/b.Elapsed().Seconds(), "rows/s")
	if cpu := aggProcessCPU() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/rows, "cpu-ns/row")
	}
}

var aggBenchCountSum = []AggSpec{{Kind: AggCountStar}, {Kind: AggSum, Col: 2}}

// BenchmarkHashAggregateInt64Key: SELECT ki, count(*), sum(v) GROUP BY ki (BIGINT key).
func BenchmarkHashAggregateInt64Key(b *testing.B) {
	benchHashAggregate(b, []int{0}, aggBenchCountSum)
}

// BenchmarkHashAggregateStringKey: SELECT ks, count(*), sum(v) GROUP BY ks (VARCHAR key).
func BenchmarkHashAggregateStringKey(b *testing.B) {
	benchHashAggregate(b, []int{1}, aggBenchCountSum)
}

// BenchmarkHashAggregateMultiKey: GROUP BY ki, ks through the general serialized-key table.
func BenchmarkHashAggregateMultiKey(b *testing.B) {
	benchHashAggregate(b, []int{0, 1}, aggBenchCountSum)
}

// BenchmarkHashAggregateInt64KeyAllAggs: count(*), count, sum, avg, min, max of v by ki.
func BenchmarkHashAggregateInt64KeyAllAggs(b *testing.B) {
	benchHashAggregate(b, []int{0}, []AggSpec{{Kind: AggCountStar}, {Kind: AggCount, Col: 2}, {Kind: AggSum, Col: 2},
		{Kind: AggAvg, Col: 2}, {Kind: AggMin, Col: 2}, {Kind: AggMax, Col: 2}})
}
