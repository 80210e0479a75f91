package exec

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestWindowGatherEqualsTake: windowGather gives Arrow's Take result for every type it serves,
// with and without NULLs, on sliced arrays, for repeated and arbitrary indices, and declines the
// others; the checked allocator sees every buffer released.
func TestWindowGatherEqualsTake(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 300
	build := func(typ arrow.DataType, nulls bool) arrow.Array {
		b := array.NewBuilder(mem, typ)
		defer b.Release()
		for i := 0; i < n; i++ {
			if nulls && rng.IntN(5) == 0 {
				b.AppendNull()
				continue
			}
			switch bb := b.(type) {
			case *array.Int64Builder:
				bb.Append(rng.Int64())
			case *array.Float64Builder:
				bb.Append(rng.Float64())
			case *array.TimestampBuilder:
				bb.Append(arrow.Timestamp(rng.Int64()))
			case *array.StringBuilder:
				bb.Append(string(make([]byte, rng.IntN(20))) + "x")
			case *array.BooleanBuilder:
				bb.Append(rng.IntN(2) == 0)
			}
		}
		return b.NewArray()
	}
	for _, typ := range []arrow.DataType{Int64, Float64, Timestamp, String, Bool} {
		for _, nulls := range []bool{false, true} {
			whole := build(typ, nulls)
			sliced := array.NewSlice(whole, 17, n-5)
			for _, col := range []arrow.Array{whole, sliced} {
				var idx []int64
				for i := 0; i < col.Len(); i++ {
					for k := rng.IntN(4); k > 0; k-- {
						idx = append(idx, int64(i))
					}
				}
				for k := 0; k < 50; k++ {
					idx = append(idx, int64(rng.IntN(col.Len())))
				}
				got, ok := windowGather(mem, col, idx)
				if typ == Bool {
					if ok {
						t.Fatalf("BOOLEAN gathered; want it declined (left to Take)")
					}
					continue
				}
				if !ok {
					t.Fatalf("%s: declined", TypeName(typ))
				}
				ia := indexArray(mem, idx)
				want, err := compute.TakeArray(compute.WithAllocator(context.Background(), mem), col, ia)
				if err != nil {
					t.Fatal(err)
				}
				if !array.Equal(got, want) {
					t.Fatalf("%s nulls=%v offset %d: gather differs from Take", TypeName(typ), nulls, col.Data().Offset())
				}
				got.Release()
				want.Release()
				ia.Release()
			}
			sliced.Release()
			whole.Release()
		}
	}
}
