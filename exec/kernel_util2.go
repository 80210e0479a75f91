package exec

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Row-wise helpers for the scalar kernels. All of them are strict: a row that is NULL in any
// argument is NULL in the result and the per-row function is not called for it. The per-row
// function may fail; the first error aborts the kernel and every buffer allocated so far is
// released. Arguments are borrowed; the returned array is owned by the caller.

// fixedNum are the Go types that carry BIGINT, DOUBLE, TIMESTAMP, INTERVAL (int64/float64) and
// DATE (int32) values in Arrow buffers.
type fixedNum interface{ int64 | float64 | int32 }

// validBytes returns the bitmap bytes of a validity buffer, nil when every row is valid.
func validBytes(validity *memory.Buffer) []byte {
	if validity == nil {
		return nil
	}
	return validity.Bytes()
}

// map1 computes a fixed-width result of type rt from one fixed-width argument.
func map1[A, R fixedNum](ctx *Ctx, rt arrow.DataType, a arrow.Array, n int, f func(A) (R, error)) (arrow.Array, error) {
	validity, nulls := combinedValidity(ctx.Mem, n, a)
	buf, out := allocFixed[R](ctx.Mem, n)
	x := fixedValues[A](a)
	vb := validBytes(validity)
	for i := 0; i < n; i++ {
		if vb != nil && !bitutil.BitIsSet(vb, i) {
			out[i] = 0
			continue
		}
		r, err := f(x[i])
		if err != nil {
			releaseBufs(validity, buf)
			return nil, err
		}
		out[i] = r
	}
	return newFixedArray(rt, n, validity, buf, nulls), nil
}

// map2 computes a fixed-width result of type rt from two fixed-width arguments.
func map2[A, B, R fixedNum](ctx *Ctx, rt arrow.DataType, a, b arrow.Array, n int, f func(A, B) (R, error)) (arrow.Array, error) {
	validity, nulls := combinedValidity(ctx.Mem, n, a, b)
	buf, out := allocFixed[R](ctx.Mem, n)
	x, y := fixedValues[A](a), fixedValues[B](b)
	vb := validBytes(validity)
	for i := 0; i < n; i++ {
		if vb != nil && !bitutil.BitIsSet(vb, i) {
			out[i] = 0
			continue
		}
		r, err := f(x[i], y[i])
		if err != nil {
			releaseBufs(validity, buf)
			return nil, err
		}
		out[i] = r
	}
	return newFixedArray(rt, n, validity, buf, nulls), nil
}

func releaseBufs(bufs ...*memory.Buffer) {
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
}

// anyNull reports whether row i is NULL in any of args.
func anyNull(args []arrow.Array, i int) bool {
	for _, a := range args {
		if isNullAt(a, i) {
			return true
		}
	}
	return false
}

// isNullAt is a.IsNull(i), also for arrays of type NULL (which have no validity bitmap).
func isNullAt(a arrow.Array, i int) bool {
	return a.DataType().ID() == arrow.NULL || a.IsNull(i)
}

// rowsTo builds a result of type rt row by row with a typed builder: f is called for every row
// where no argument is NULL and appends exactly one value (or NULL) to the builder.
func rowsTo[B array.Builder](ctx *Ctx, rt arrow.DataType, args []arrow.Array, n int, f func(b B, i int) error) (arrow.Array, error) {
	b := array.NewBuilder(ctx.Mem, rt)
	defer b.Release()
	b.Reserve(n)
	tb := b.(B)
	for i := 0; i < n; i++ {
		if anyNull(args, i) {
			b.AppendNull()
			continue
		}
		if err := f(tb, i); err != nil {
			return nil, err
		}
	}
	return b.NewArray(), nil
}

// stringsTo builds a VARCHAR result; f returns the value and whether it is NULL.
func stringsTo(ctx *Ctx, args []arrow.Array, n int, f func(i int) (string, bool, error)) (arrow.Array, error) {
	return rowsTo(ctx, String, args, n, func(b *array.StringBuilder, i int) error {
		s, null, err := f(i)
		if err != nil {
			return err
		}
		if null {
			b.AppendNull()
		} else {
			b.Append(s)
		}
		return nil
	})
}

// decimalsTo builds a DECIMAL result of type rt; f returns the value scaled by rt's scale.
func decimalsTo(ctx *Ctx, rt arrow.DataType, args []arrow.Array, n int, f func(i int) (decimal128.Num, error)) (arrow.Array, error) {
	return rowsTo(ctx, rt, args, n, func(b *array.Decimal128Builder, i int) error {
		v, err := f(i)
		if err != nil {
			return err
		}
		b.Append(v)
		return nil
	})
}

// fixedTo builds a fixed-width result of type rt row by row: rows NULL in any argument stay NULL
// without calling f.
func fixedTo[T int64 | float64](ctx *Ctx, rt arrow.DataType, args []arrow.Array, n int, f func(i int) (T, error)) (arrow.Array, error) {
	buf, out := allocFixed[T](ctx.Mem, n)
	validity, nulls := combinedValidity(ctx.Mem, n, args...)
	vb := validBytes(validity)
	for i := 0; i < n; i++ {
		if vb != nil && !bitutil.BitIsSet(vb, i) {
			out[i] = 0
			continue
		}
		v, err := f(i)
		if err != nil {
			releaseBufs(validity, buf)
			return nil, err
		}
		out[i] = v
	}
	return newFixedArray(rt, n, validity, buf, nulls), nil
}

// int64sTo builds a BIGINT (or other int64-carried type) result row by row.
func int64sTo(ctx *Ctx, rt arrow.DataType, args []arrow.Array, n int, f func(i int) (int64, error)) (arrow.Array, error) {
	return fixedTo(ctx, rt, args, n, f)
}

// float64sTo builds a DOUBLE result row by row.
func float64sTo(ctx *Ctx, args []arrow.Array, n int, f func(i int) (float64, error)) (arrow.Array, error) {
	return fixedTo(ctx, Float64, args, n, f)
}

// boolsTo builds a BOOLEAN result; f returns the value and whether it is NULL.
func boolsTo(ctx *Ctx, args []arrow.Array, n int, f func(i int) (bool, bool, error)) (arrow.Array, error) {
	return rowsTo(ctx, Bool, args, n, func(b *array.BooleanBuilder, i int) error {
		v, null, err := f(i)
		if err != nil {
			return err
		}
		if null {
			b.AppendNull()
		} else {
			b.Append(v)
		}
		return nil
	})
}

// constString returns the value of a column when every row holds the same non-NULL string (as a
// literal argument does), so kernels can compile it once. ok is false otherwise.
func constString(a arrow.Array) (string, bool) {
	s, ok := a.(*array.String)
	if !ok || s.Len() == 0 || s.NullN() > 0 {
		return "", false
	}
	v := s.Value(0)
	for i := 1; i < s.Len(); i++ {
		if s.Value(i) != v {
			return "", false
		}
	}
	return v, true
}

// appendFrom appends row i of src to b; src and b have the same type.
func appendFrom(b array.Builder, src arrow.Array, i int) {
	if src.IsNull(i) {
		b.AppendNull()
		return
	}
	switch bb := b.(type) {
	case *array.Int64Builder:
		bb.Append(src.(*array.Int64).Value(i))
	case *array.Float64Builder:
		bb.Append(src.(*array.Float64).Value(i))
	case *array.BooleanBuilder:
		bb.Append(src.(*array.Boolean).Value(i))
	case *array.StringBuilder:
		bb.Append(src.(*array.String).Value(i))
	case *array.TimestampBuilder:
		bb.Append(src.(*array.Timestamp).Value(i))
	case *array.Date32Builder:
		bb.Append(src.(*array.Date32).Value(i))
	case *array.DurationBuilder:
		bb.Append(src.(*array.Duration).Value(i))
	case *array.Decimal128Builder:
		bb.Append(src.(*array.Decimal128).Value(i))
	case *array.ListBuilder:
		l := src.(*array.List)
		start, end := l.ValueOffsets(i)
		bb.Append(true)
		vb := bb.ValueBuilder()
		for j := start; j < end; j++ {
			appendFrom(vb, l.ListValues(), int(j))
		}
	case *array.NullBuilder:
		bb.AppendNull()
	default:
		// Every engine type is listed above; reaching here is a programming error that the
		// generic path still handles correctly, only more slowly.
		if err := AppendDatum(b, ValueAt(src, i)); err != nil {
			panic(fmt.Sprintf("internal: appendFrom %T: %v", b, err))
		}
	}
}

// takeRows returns a new array holding the rows idx of src, in order.
func takeRows(mem memory.Allocator, src arrow.Array, idx []int) arrow.Array {
	b := array.NewBuilder(mem, src.DataType())
	defer b.Release()
	b.Reserve(len(idx))
	for _, i := range idx {
		appendFrom(b, src, i)
	}
	return b.NewArray()
}

// takeRecord returns a new record with the rows idx of rec (all columns). When idx selects every
// row in order, rec itself is retained and returned.
func takeRecord(mem memory.Allocator, rec arrow.RecordBatch, idx []int) arrow.RecordBatch {
	if len(idx) == int(rec.NumRows()) {
		same := true
		for k, i := range idx {
			if k != i {
				same = false
				break
			}
		}
		if same {
			rec.Retain()
			return rec
		}
	}
	cols := make([]arrow.Array, rec.NumCols())
	for c := range cols {
		cols[c] = takeRows(mem, rec.Column(c), idx)
	}
	out := array.NewRecordBatch(rec.Schema(), cols, int64(len(idx)))
	for _, c := range cols {
		c.Release()
	}
	return out
}
