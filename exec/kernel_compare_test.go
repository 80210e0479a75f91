package exec

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestFloatComparisonsOrderNaNLikePostgres(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := &Ctx{Context: context.Background(), Mem: mem, Now: time.Unix(0, 0)}
	build := func(vals ...float64) *array.Float64 {
		b := array.NewFloat64Builder(mem)
		defer b.Release()
		b.AppendValues(vals, nil)
		return b.NewFloat64Array()
	}
	nan := math.NaN()
	x := build(nan, nan, 1, math.Inf(1), 2)
	y := build(nan, 1, nan, nan, 2)
	defer x.Release()
	defer y.Release()
	cases := map[cmpOp][]bool{
		opEq: {true, false, false, false, true},
		opGt: {false, true, false, false, false},
		opLt: {false, false, true, true, false},
		opGe: {true, true, false, false, true},
	}
	for op, want := range cases {
		got, err := compareArrays(ctx, op, x, y, 5)
		if err != nil {
			t.Fatal(err)
		}
		b := got.(*array.Boolean)
		for i, w := range want {
			if b.Value(i) != w {
				t.Errorf("%s row %d: got %v want %v", cmpNames[op], i, b.Value(i), w)
			}
		}
		got.Release()
	}
}
