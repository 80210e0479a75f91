package sources

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
)

// reasonBatchFull is the Reason when a batch's string data would exceed what int32 offsets
// address. It is not a property of the record, so it stops the decoder even with OnError set.
const reasonBatchFull = "string data of one batch exceeds 2 GiB; use a smaller batch_size"

// kind is the physical layout a column is decoded into.
type kind uint8

const (
	kBool kind = iota
	kInt64
	kFloat64
	kDecimal
	kString
	kTimestamp // int64 microseconds
	kDate      // int32 days
	kInterval  // int64 microseconds
)

// column accumulates one column of the batch being decoded directly in Arrow buffers allocated from
// mem. finish hands the buffers to a new array and leaves the column empty; release frees buffers of
// a batch that is abandoned. Each append writes row n and advances n; truncate rolls back rows of a
// record that failed halfway.
type column struct {
	name string
	typ  arrow.DataType
	kind kind
	dec  *arrow.Decimal128Type // kDecimal only
	mem  memory.Allocator
	// initCap is the row capacity of the first allocation of a batch (the batch size, bounded).
	initCap int

	n   int // rows appended to the current batch
	cap int // rows the buffers hold

	values   *memory.Buffer // fixed-width values, the bool value bitmap, or string bytes
	offsets  *memory.Buffer // kString: n+1 int32 offsets
	validity *memory.Buffer // nil until the batch's first NULL

	i64   []int64          // kInt64, kTimestamp, kInterval
	f64   []float64        // kFloat64
	i32   []int32          // kDate
	d128  []decimal128.Num // kDecimal
	bits  []byte           // kBool values
	offs  []int32          // kString
	data  []byte           // kString bytes; data[:offs[n]] are used
	valid []byte           // validity bits, nil while every row is valid

	// kTimestamp: the date of the last value and its midnight (see parseTimestamp). Kept across
	// batches.
	tsCache exec.TimestampCache
}

// newColumn maps a schema field to its decoded layout; types outside the engine's SQL types are
// refused with an error naming the column.
func newColumn(f arrow.Field, mem memory.Allocator, batchSize int) (*column, error) {
	c := &column{name: f.Name, typ: f.Type, mem: mem, initCap: min(batchSize, DefaultBatchSize)}
	if f.Type == nil {
		return nil, fmt.Errorf("column %q has no type", f.Name)
	}
	switch f.Type.ID() {
	case arrow.BOOL:
		c.kind = kBool
	case arrow.INT64:
		c.kind = kInt64
	case arrow.FLOAT64:
		c.kind = kFloat64
	case arrow.DECIMAL128:
		c.kind = kDecimal
		c.dec = f.Type.(*arrow.Decimal128Type)
	case arrow.STRING:
		c.kind = kString
	case arrow.TIMESTAMP:
		if u := f.Type.(*arrow.TimestampType).Unit; u != arrow.Microsecond {
			return nil, fmt.Errorf("column %q: TIMESTAMP must have microsecond unit, got %s", f.Name, u)
		}
		c.kind = kTimestamp
	case arrow.DATE32:
		c.kind = kDate
	case arrow.DURATION:
		if u := f.Type.(*arrow.DurationType).Unit; u != arrow.Microsecond {
			return nil, fmt.Errorf("column %q: INTERVAL must have microsecond unit, got %s", f.Name, u)
		}
		c.kind = kInterval
	default:
		return nil, fmt.Errorf("column %q: type %s cannot be read from files (supported: BOOLEAN, BIGINT, DOUBLE, DECIMAL(p,s), VARCHAR, TIMESTAMP, DATE, INTERVAL)", f.Name, exec.TypeName(f.Type))
	}
	return c, nil
}

// newColumns builds one column per schema field.
func newColumns(schema *arrow.Schema, opts DecodeOptions) ([]*column, error) {
	if schema == nil || schema.NumFields() == 0 {
		return nil, fmt.Errorf("a decoder needs a schema with at least one column")
	}
	cols := make([]*column, schema.NumFields())
	for i, f := range schema.Fields() {
		c, err := newColumn(f, opts.Mem, opts.BatchSize)
		if err != nil {
			return nil, err
		}
		cols[i] = c
	}
	return cols, nil
}

func (c *column) valueWidth() int {
	switch c.kind {
	case kInt64, kFloat64, kTimestamp, kInterval:
		return 8
	case kDate:
		return 4
	case kDecimal:
		return 16
	}
	return 0
}

// grow makes room for at least one more row (allocating the batch's buffers on first use).
func (c *column) grow() {
	newCap := c.initCap
	if c.cap > 0 {
		newCap = 2 * c.cap
	}
	if c.values == nil {
		c.values = memory.NewResizableBuffer(c.mem)
	}
	switch c.kind {
	case kBool:
		c.values.Reserve(int(bitutil.BytesForBits(int64(newCap))))
		c.bits = c.values.Buf()
	case kString:
		if c.offsets == nil {
			c.offsets = memory.NewResizableBuffer(c.mem)
			c.values.Reserve(newCap * 8)
			c.data = c.values.Buf()
		}
		c.offsets.Reserve((newCap + 1) * 4)
		c.offs = arrow.Int32Traits.CastFromBytes(c.offsets.Buf())
		if c.n == 0 {
			c.offs[0] = 0
		}
	default:
		c.values.Reserve(newCap * c.valueWidth())
		c.viewValues()
	}
	if c.validity != nil {
		c.validity.Reserve(int(bitutil.BytesForBits(int64(newCap))))
		c.valid = c.validity.Buf()
	}
	c.cap = newCap
}

func (c *column) viewValues() {
	b := c.values.Buf()
	switch c.kind {
	case kInt64, kTimestamp, kInterval:
		c.i64 = arrow.Int64Traits.CastFromBytes(b)
	case kFloat64:
		c.f64 = arrow.Float64Traits.CastFromBytes(b)
	case kDate:
		c.i32 = arrow.Int32Traits.CastFromBytes(b)
	case kDecimal:
		c.d128 = arrow.Decimal128Traits.CastFromBytes(b)
	}
}

// setValid marks row n valid when the batch has a validity bitmap. Call before n++.
func (c *column) setValid() {
	if c.valid != nil {
		bitutil.SetBit(c.valid, c.n)
	}
}

func (c *column) appendInt64(v int64) {
	if c.n == c.cap {
		c.grow()
	}
	c.i64[c.n] = v
	c.setValid()
	c.n++
}

func (c *column) appendFloat64(v float64) {
	if c.n == c.cap {
		c.grow()
	}
	c.f64[c.n] = v
	c.setValid()
	c.n++
}

func (c *column) appendInt32(v int32) {
	if c.n == c.cap {
		c.grow()
	}
	c.i32[c.n] = v
	c.setValid()
	c.n++
}

func (c *column) appendDecimal(v decimal128.Num) {
	if c.n == c.cap {
		c.grow()
	}
	c.d128[c.n] = v
	c.setValid()
	c.n++
}

func (c *column) appendBool(v bool) {
	if c.n == c.cap {
		c.grow()
	}
	bitutil.SetBitTo(c.bits, c.n, v)
	c.setValid()
	c.n++
}

// appendString appends b (copied); it returns false when the batch's string data would exceed the
// 2 GiB that int32 offsets can address.
func (c *column) appendString(b []byte) bool {
	if c.n == c.cap {
		c.grow()
	}
	start := int(c.offs[c.n])
	end := start + len(b)
	if end > len(c.data) {
		if end > 1<<31-1 {
			return false
		}
		c.values.Reserve(max(2*len(c.data), end))
		c.data = c.values.Buf()
	}
	copy(c.data[start:end], b)
	c.offs[c.n+1] = int32(end)
	c.setValid()
	c.n++
	return true
}

// appendNull appends a NULL, creating the validity bitmap (all earlier rows valid) on first use.
func (c *column) appendNull() {
	if c.n == c.cap {
		c.grow()
	}
	if c.valid == nil {
		c.validity = memory.NewResizableBuffer(c.mem)
		c.validity.Reserve(int(bitutil.BytesForBits(int64(c.cap))))
		c.valid = c.validity.Buf()
		bitutil.SetBitsTo(c.valid, 0, int64(c.n), true)
	}
	bitutil.ClearBit(c.valid, c.n)
	switch c.kind {
	case kBool:
		bitutil.ClearBit(c.bits, c.n)
	case kString:
		c.offs[c.n+1] = c.offs[c.n]
	case kInt64, kTimestamp, kInterval:
		c.i64[c.n] = 0
	case kFloat64:
		c.f64[c.n] = 0
	case kDate:
		c.i32[c.n] = 0
	case kDecimal:
		c.d128[c.n] = decimal128.Num{}
	}
	c.n++
}

// truncate drops the rows after the first n (n <= c.n).
func (c *column) truncate(n int) { c.n = n }

// finish returns the batch's rows as an array the caller owns and leaves the column empty for the
// next batch.
func (c *column) finish() arrow.Array {
	if c.cap == 0 {
		c.grow() // a column of zero rows has no buffers yet; an array needs them
	}
	n := c.n
	var nulls int
	var validity *memory.Buffer
	if c.validity != nil {
		validity = c.validity
		validity.ResizeNoShrink(int(bitutil.BytesForBits(int64(n))))
		nulls = n - bitutil.CountSetBits(c.valid, 0, n)
	}
	var bufs []*memory.Buffer
	switch c.kind {
	case kBool:
		c.values.ResizeNoShrink(int(bitutil.BytesForBits(int64(n))))
		bufs = []*memory.Buffer{validity, c.values}
	case kString:
		c.offsets.ResizeNoShrink((n + 1) * 4)
		c.values.ResizeNoShrink(int(c.offs[n]))
		bufs = []*memory.Buffer{validity, c.offsets, c.values}
	default:
		c.values.ResizeNoShrink(n * c.valueWidth())
		bufs = []*memory.Buffer{validity, c.values}
	}
	data := array.NewData(c.typ, n, bufs, nil, nulls, 0)
	arr := array.MakeFromData(data)
	data.Release()
	c.release()
	return arr
}

// release drops the column's references to the current batch's buffers.
func (c *column) release() {
	for _, b := range []*memory.Buffer{c.values, c.offsets, c.validity} {
		if b != nil {
			b.Release()
		}
	}
	*c = column{name: c.name, typ: c.typ, kind: c.kind, dec: c.dec, mem: c.mem, initCap: c.initCap,
		tsCache: c.tsCache}
}

// batch turns the accumulated rows of cols into a record of schema (owned by the caller).
func batch(schema *arrow.Schema, cols []*column, rows int) arrow.RecordBatch {
	arrs := make([]arrow.Array, len(cols))
	for i, c := range cols {
		arrs[i] = c.finish()
	}
	rec := array.NewRecordBatch(schema, arrs, int64(rows))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}
