package exec

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// combinedValidity returns a validity bitmap that is the AND of the inputs' validity (nil when no
// input has nulls) and the resulting null count.
func combinedValidity(mem memory.Allocator, n int, arrs ...arrow.Array) (*memory.Buffer, int) {
	any := false
	for _, a := range arrs {
		if a.NullN() > 0 {
			any = true
		}
	}
	if !any {
		return nil, 0
	}
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(int(bitutil.BytesForBits(int64(n))))
	bits := buf.Bytes()
	for i := 0; i < n; i++ {
		valid := true
		for _, a := range arrs {
			if a.IsNull(i) {
				valid = false
				break
			}
		}
		bitutil.SetBitTo(bits, i, valid)
	}
	nulls := n - bitutil.CountSetBits(bits, 0, n)
	return buf, nulls
}

// newFixedArray wraps values (little-endian fixed-width) and an optional validity bitmap as an
// array of type t. It takes ownership of both buffers.
func newFixedArray(t arrow.DataType, n int, validity, values *memory.Buffer, nulls int) arrow.Array {
	data := array.NewData(t, n, []*memory.Buffer{validity, values}, nil, nulls, 0)
	defer data.Release()
	if validity != nil {
		validity.Release()
	}
	values.Release()
	return array.MakeFromData(data)
}

// allocFixed returns a buffer with room for n values of T, viewed as a []T.
func allocFixed[T int64 | float64 | int32 | arrow.Timestamp | arrow.Date32 | arrow.Duration](mem memory.Allocator, n int) (*memory.Buffer, []T) {
	buf := memory.NewResizableBuffer(mem)
	var zero T
	size := int(sizeOf(zero))
	buf.Resize(n * size)
	return buf, arrow.GetData[T](buf.Bytes())
}

func sizeOf(v any) int {
	switch v.(type) {
	case int32, arrow.Date32:
		return 4
	}
	return 8
}

// boolResult builds a BOOLEAN array of n rows from a function computing each valid row's value.
// Rows where validity is unset are NULL.
func boolResult(mem memory.Allocator, n int, validity *memory.Buffer, nulls int, f func(i int) bool) arrow.Array {
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(int(bitutil.BytesForBits(int64(n))))
	bits := buf.Bytes()
	for i := range bits {
		bits[i] = 0
	}
	var vb []byte
	if validity != nil {
		vb = validity.Bytes()
	}
	for i := 0; i < n; i++ {
		if vb != nil && !bitutil.BitIsSet(vb, i) {
			continue
		}
		if f(i) {
			bitutil.SetBit(bits, i)
		}
	}
	return newFixedArray(Bool, n, validity, buf, nulls)
}

// fixedValues returns the values of a fixed-width numeric array as a []T without copying.
func fixedValues[T int64 | float64 | int32](a arrow.Array) []T {
	d := a.Data()
	buf := d.Buffers()[1]
	if buf == nil {
		return nil
	}
	vals := arrow.GetData[T](buf.Bytes())
	return vals[d.Offset() : d.Offset()+d.Len()]
}
