package exec

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

const benchRows = 64 * 1024

func benchRecord(b *testing.B) arrow.RecordBatch {
	ib := array.NewInt64Builder(memory.DefaultAllocator)
	sb := array.NewStringBuilder(memory.DefaultAllocator)
	for i := 0; i < benchRows; i++ {
		ib.Append(int64(i%1000 - 500))
		if i%3 == 0 {
			sb.Append("apple pie")
		} else {
			sb.Append("banana split")
		}
	}
	cols := []arrow.Array{ib.NewArray(), sb.NewArray()}
	ib.Release()
	sb.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: "x", Type: Int64}, {Name: "s", Type: String}}, nil)
	rec := array.NewRecordBatch(schema, cols, benchRows)
	cols[0].Release()
	cols[1].Release()
	return rec
}

func benchExpr(b *testing.B, e Expr) {
	rec := benchRecord(b)
	defer rec.Release()
	ctx := &Ctx{Context: context.Background(), Mem: memory.DefaultAllocator, Now: testNow}
	b.SetBytes(benchRows * 8)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := e.Eval(ctx, rec)
		if err != nil {
			b.Fatal(err)
		}
		out.Release()
	}
}

func BenchmarkKernelAddInt64(b *testing.B) {
	benchExpr(b, call(b, "+", col(0, Int64), col(0, Int64)))
}

func BenchmarkKernelLikePrefix(b *testing.B) {
	benchExpr(b, call(b, "like", col(1, String), ls("app%")))
}

func BenchmarkKernelCaseDivide(b *testing.B) {
	x := col(0, Int64)
	e, err := NewCase(nil, []Expr{call(b, "=", x, li(0))}, []Expr{li(0)}, call(b, "/", li(10), x))
	if err != nil {
		b.Fatal(err)
	}
	benchExpr(b, e)
}

func BenchmarkKernelInListConst(b *testing.B) {
	e, err := NewInList(col(0, Int64), []Expr{li(1), li(2), li(3), li(400)}, false)
	if err != nil {
		b.Fatal(err)
	}
	benchExpr(b, e)
}
