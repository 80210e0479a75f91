package exec

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// windowGather returns the rows idx (in order, each 0 <= idx[k] < col.Len()) of col as a new
// array the caller owns, for the column types a window's input mostly has: 8-byte fixed-width
// (BIGINT, DOUBLE, TIMESTAMP, INTERVAL) and VARCHAR. It reports false for any other type (the
// caller takes those through Arrow's Take). Performance: a sliding window repeats each row once
// per window, and Arrow's generic Take kernel was most of the sliding assignment's cost; these
// loops read the source's buffers directly and write exact-size buffers from mem.
func windowGather(mem memory.Allocator, col arrow.Array, idx []int64) (arrow.Array, bool) {
	n := len(idx)
	d := col.Data()
	if len(d.Buffers()) < 2 || d.Buffers()[1] == nil {
		return nil, false
	}
	switch col.DataType().ID() {
	case arrow.INT64, arrow.FLOAT64, arrow.TIMESTAMP, arrow.DURATION:
		src := arrow.Int64Traits.CastFromBytes(d.Buffers()[1].Bytes())[d.Offset():]
		buf, dst := allocFixed[int64](mem, n)
		for k, i := range idx {
			dst[k] = src[i]
		}
		validity, nulls := windowGatherValidity(mem, col, idx)
		return newFixedArray(col.DataType(), n, validity, buf, nulls), true
	case arrow.STRING:
		s := col.(*array.String)
		offs := arrow.Int32Traits.CastFromBytes(d.Buffers()[1].Bytes())[d.Offset():]
		var values []byte
		if b := d.Buffers()[2]; b != nil {
			values = b.Bytes()
		}
		offBuf := memory.NewResizableBuffer(mem)
		offBuf.Resize((n + 1) * 4)
		dstOffs := arrow.Int32Traits.CastFromBytes(offBuf.Bytes())
		total := int32(0)
		for k, i := range idx {
			dstOffs[k] = total
			total += offs[i+1] - offs[i]
		}
		dstOffs[n] = total
		dataBuf := memory.NewResizableBuffer(mem)
		dataBuf.Resize(int(total))
		data := dataBuf.Bytes()
		for k, i := range idx {
			copy(data[dstOffs[k]:dstOffs[k+1]], values[offs[i]:offs[i+1]])
		}
		validity, nulls := windowGatherValidity(mem, s, idx)
		ad := array.NewData(col.DataType(), n, []*memory.Buffer{validity, offBuf, dataBuf}, nil, nulls, 0)
		if validity != nil {
			validity.Release()
		}
		offBuf.Release()
		dataBuf.Release()
		defer ad.Release()
		return array.MakeFromData(ad), true
	}
	return nil, false
}

// windowGatherValidity is the validity bitmap of rows idx of col (nil and 0 when col has no NULLs).
func windowGatherValidity(mem memory.Allocator, col arrow.Array, idx []int64) (*memory.Buffer, int) {
	if col.NullN() == 0 {
		return nil, 0
	}
	n := len(idx)
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(int(bitutil.BytesForBits(int64(n))))
	bits := buf.Bytes()
	clear(bits)
	nulls := 0
	for k, i := range idx {
		if col.IsValid(int(i)) {
			bitutil.SetBit(bits, k)
		} else {
			nulls++
		}
	}
	return buf, nulls
}
