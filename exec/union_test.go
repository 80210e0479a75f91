package exec_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/watermark"
)

// TestUnionRelabels: rows of both inputs pass through in push order under the union's field
// names, whatever the inputs called their columns.
func TestUnionRelabels(t *testing.T) {
	types := []arrow.DataType{exec.Int64, exec.String, exec.Bool, exec.Timestamp, opDecimal}
	left := opSchema(types...)
	rightFields := make([]arrow.Field, len(types))
	unionFields := make([]arrow.Field, len(types))
	for i, ty := range types {
		rightFields[i] = arrow.Field{Name: fmt.Sprintf("other%d", i), Type: ty, Nullable: true}
		unionFields[i] = arrow.Field{Name: fmt.Sprintf("u%d", i), Type: ty, Nullable: true}
	}
	right, us := arrow.NewSchema(rightFields, nil), arrow.NewSchema(unionFields, nil)
	r := rand.New(rand.NewPCG(7, 8))
	lrows := opRandRows(r, 100, 20, types...)
	rrows := opRandRows(r, 60, 20, types...)
	for _, batch := range opBatchSizes {
		t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) {
			ctx, mem := opCtx()
			u := exec.NewUnion(us)
			lrecs := opRecords(t, mem, left, lrows, batch)
			rrecs := opRecords(t, mem, right, rrows, batch)
			sink := newOpSink(t, us) // checks every emitted record carries the union's schema
			// Interleave the inputs: input 1 first, then input 0, then input 1 again.
			half := len(rrecs) / 2
			opPush(t, ctx, u, 1, rrecs[:half], sink.emit)
			opPush(t, ctx, u, 0, lrecs, sink.emit)
			opPush(t, ctx, u, 1, rrecs[half:], sink.emit)
			var want [][]exec.Datum
			for _, rec := range rrecs[:half] {
				want = append(want, opRows(rec)...)
			}
			want = append(want, lrows...)
			for _, rec := range rrecs[half:] {
				want = append(want, opRows(rec)...)
			}
			opRelease(lrecs)
			opRelease(rrecs)
			if err := u.Flush(ctx, watermark.MaxTime, sink.emit); err != nil {
				t.Fatal(err)
			}
			if err := u.Close(); err != nil {
				t.Fatal(err)
			}
			opSameRows(t, "union", sink.rows(), want)
			sink.release()
			opAssertNoLeak(t, mem)
		})
	}
}

// TestUnionKeepsWeights: retractions pass through a union unchanged.
func TestUnionKeepsWeights(t *testing.T) {
	in := opSchema(exec.Int64)
	us := arrow.NewSchema([]arrow.Field{{Name: "v", Type: exec.Int64, Nullable: true}}, nil)
	ctx, mem := opCtx()
	u := exec.NewUnion(us)
	rec := opRecord(t, mem, in, [][]exec.Datum{{int64(1)}, {nil}})
	wb := array.NewInt64Builder(mem)
	wb.AppendValues([]int64{1, -1}, nil)
	w := wb.NewInt64Array()
	wb.Release()
	sink := newOpSink(t, us)
	if err := u.Push(ctx, 1, exec.Delta{Rec: rec, Weights: w}, sink.emit); err != nil {
		t.Fatal(err)
	}
	rec.Release()
	w.Release()
	if len(sink.weights) != 1 || sink.weights[0] == nil || sink.weights[0].Value(1) != -1 {
		t.Fatalf("weights not passed through: %v", sink.weights)
	}
	opSameRows(t, "weighted union", sink.rows(), [][]exec.Datum{{int64(1)}, {nil}})
	sink.release()
	opAssertNoLeak(t, mem)
}
