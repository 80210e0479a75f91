package exec

import (
	"encoding/binary"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The general group table: each row's key columns are serialized into one byte string (equal
// strings iff equal key tuples, NULLs equal to each other) and looked up in a bytesTable. It serves
// several group columns, a single DECIMAL or NULL-typed key, and the (group, value) sets of
// DISTINCT aggregates.
//
// Encoding of one value: a flag byte (0 NULL, 1 valid) followed by
//
//	BOOLEAN 1 byte; BIGINT, TIMESTAMP, INTERVAL 8 bytes; DOUBLE 8 bytes of aggFloatKey;
//	DATE 4 bytes; DECIMAL 16 bytes; VARCHAR 4-byte length + bytes; NULL type nothing.
//
// Fixed-width values of NULL rows are written as zeros and VARCHAR NULLs with length 0, so the
// encoding is fixed-width except for VARCHAR bytes.

// keyEncoder serializes the rows of a batch into a reused buffer.
type keyEncoder struct {
	types  []arrow.DataType
	prefix bool // each row starts with a 4-byte group id
	fixed  int  // bytes per row without VARCHAR contents
	buf    []byte
	offs   []int // row i is buf[offs[i]:offs[i+1]]
	pos    []int // write cursor per row while encoding
}

func newKeyEncoder(types []arrow.DataType, prefix bool) *keyEncoder {
	e := &keyEncoder{types: types, prefix: prefix}
	if prefix {
		e.fixed = 4
	}
	for _, t := range types {
		e.fixed += 1 + aggKeyWidth(t)
	}
	return e
}

// aggKeyWidth is the encoded width of a value after its flag byte (for VARCHAR: the length field).
func aggKeyWidth(t arrow.DataType) int {
	switch t.ID() {
	case arrow.BOOL:
		return 1
	case arrow.DATE32, arrow.STRING:
		return 4
	case arrow.DECIMAL128:
		return 16
	case arrow.NULL:
		return 0
	}
	return 8
}

// encode serializes rows 0..n-1 of cols (one array per type), each preceded by prefix[i] when the
// encoder has a prefix. The rows stay valid until the next encode.
func (e *keyEncoder) encode(cols []arrow.Array, n int, prefix []uint32) {
	e.offs = aggGrow(e.offs[:0], n+1)
	e.pos = aggGrow(e.pos[:0], n)
	// pos holds each row's VARCHAR bytes first, then serves as the write cursors.
	pos := e.pos
	clear(pos)
	for c, t := range e.types {
		if t.ID() != arrow.STRING {
			continue
		}
		col := cols[c]
		offs := col.(*array.String).ValueOffsets()
		vb, off := aggValidity(col)
		for i := 0; i < n; i++ {
			if vb == nil || bitutil.BitIsSet(vb, off+i) {
				pos[i] += int(offs[i+1] - offs[i])
			}
		}
	}
	total := 0
	for i := 0; i < n; i++ {
		e.offs[i] = total
		total += e.fixed + pos[i]
	}
	e.offs[n] = total
	if cap(e.buf) < total {
		e.buf = make([]byte, total, 2*total)
	}
	buf := e.buf[:total]
	copy(pos, e.offs[:n])
	if e.prefix {
		for i := 0; i < n; i++ {
			binary.LittleEndian.PutUint32(buf[pos[i]:], prefix[i])
			pos[i] += 4
		}
	}
	for c, t := range e.types {
		col := cols[c]
		vb, off := aggValidity(col)
		valid := func(i int) bool { return vb == nil || bitutil.BitIsSet(vb, off+i) }
		if t.ID() == arrow.NULL {
			for i := 0; i < n; i++ {
				buf[pos[i]] = 0
				pos[i]++
			}
			continue
		}
		w := aggKeyWidth(t)
		put := aggKeyPutter(col)
		for i := 0; i < n; i++ {
			p := pos[i]
			pos[i] += 1 + w
			if !valid(i) {
				clear(buf[p : p+1+w])
				continue
			}
			buf[p] = 1
			pos[i] += put(buf[p+1:], i)
		}
	}
	e.buf = buf
}

// aggKeyPutter returns the function writing the value of row i of col (a valid row) at the start of
// v; it returns the number of bytes written beyond the fixed width (VARCHAR contents).
func aggKeyPutter(col arrow.Array) func(v []byte, i int) int {
	switch col.DataType().ID() {
	case arrow.BOOL:
		a := col.(*array.Boolean)
		return func(v []byte, i int) int {
			v[0] = 0
			if a.Value(i) {
				v[0] = 1
			}
			return 0
		}
	case arrow.INT64, arrow.TIMESTAMP, arrow.DURATION:
		x := fixedValues[int64](col)
		return func(v []byte, i int) int { binary.LittleEndian.PutUint64(v, uint64(x[i])); return 0 }
	case arrow.FLOAT64:
		x := fixedValues[float64](col)
		return func(v []byte, i int) int { binary.LittleEndian.PutUint64(v, uint64(aggFloatKey(x[i]))); return 0 }
	case arrow.DATE32:
		x := fixedValues[int32](col)
		return func(v []byte, i int) int { binary.LittleEndian.PutUint32(v, uint32(x[i])); return 0 }
	case arrow.DECIMAL128:
		a := col.(*array.Decimal128)
		return func(v []byte, i int) int {
			d := a.Value(i)
			binary.LittleEndian.PutUint64(v, d.LowBits())
			binary.LittleEndian.PutUint64(v[8:], uint64(d.HighBits()))
			return 0
		}
	case arrow.STRING:
		a := col.(*array.String)
		offs := a.ValueOffsets()
		var data []byte
		if buf := a.Data().Buffers()[2]; buf != nil {
			data = buf.Bytes()
		}
		return func(v []byte, i int) int {
			b := data[offs[i]:offs[i+1]]
			binary.LittleEndian.PutUint32(v, uint32(len(b)))
			return copy(v[4:], b)
		}
	}
	return func([]byte, int) int { return 0 }
}

func (e *keyEncoder) row(i int) []byte { return e.buf[e.offs[i]:e.offs[i+1]] }

// aggDecodeValue appends the value of type t encoded at the start of key to b and returns the rest
// of key.
func aggDecodeValue(b array.Builder, t arrow.DataType, key []byte) []byte {
	valid := key[0] == 1
	key = key[1:]
	w := aggKeyWidth(t)
	if t.ID() == arrow.STRING {
		w += int(binary.LittleEndian.Uint32(key))
	}
	v, rest := key[:w], key[w:]
	if !valid {
		b.AppendNull()
		return rest
	}
	switch bb := b.(type) {
	case *array.BooleanBuilder:
		bb.Append(v[0] == 1)
	case *array.Int64Builder:
		bb.Append(int64(binary.LittleEndian.Uint64(v)))
	case *array.TimestampBuilder:
		bb.Append(arrow.Timestamp(binary.LittleEndian.Uint64(v)))
	case *array.DurationBuilder:
		bb.Append(arrow.Duration(binary.LittleEndian.Uint64(v)))
	case *array.Float64Builder:
		bb.Append(math.Float64frombits(binary.LittleEndian.Uint64(v)))
	case *array.Date32Builder:
		bb.Append(arrow.Date32(binary.LittleEndian.Uint32(v)))
	case *array.Decimal128Builder:
		bb.Append(decimal128.New(int64(binary.LittleEndian.Uint64(v[8:])), binary.LittleEndian.Uint64(v)))
	case *array.StringBuilder:
		bb.BinaryBuilder.Append(v[4:])
	default:
		b.AppendNull()
	}
	return rest
}

// serialTable is the group table for any key shape; group ids are bytesTable entries.
type serialTable struct {
	types []arrow.DataType
	enc   *keyEncoder
	t     *bytesTable
}

// newSerialTable returns the group table for a key of several columns (or of one DECIMAL or
// NULL-typed column; newGroupTable's fallback): the tuple table (aggregate_hash_tuple.go) when
// the columns are fixed-width plus at most one VARCHAR, the serialized-key table otherwise.
func newSerialTable(types []arrow.DataType) groupTable {
	if tupleKeyTypes(types) {
		return newTupleTable(types)
	}
	return newSerialKeyTable(types)
}

// newSerialKeyTable returns the serialized-key table, which serves any key shape.
func newSerialKeyTable(types []arrow.DataType) *serialTable {
	return &serialTable{types: types, enc: newKeyEncoder(types, false), t: newBytesTable()}
}

func (s *serialTable) numGroups() int { return s.t.len() }

func (s *serialTable) bytes() int64 {
	return s.t.bytes() + int64(cap(s.enc.buf)) + int64(cap(s.enc.offs)+cap(s.enc.pos))*8
}

func (s *serialTable) assign(keys []arrow.Array, n int, ids []uint32) {
	s.enc.encode(keys, n, nil)
	for i := 0; i < n; i++ {
		b := s.enc.row(i)
		ids[i], _ = s.t.getOrInsert(b, aggHashBytes(b))
	}
}

func (s *serialTable) keyColumns(mem memory.Allocator, gids []uint32) []arrow.Array {
	bs := make([]array.Builder, len(s.types))
	for c, t := range s.types {
		bs[c] = array.NewBuilder(mem, t)
		bs[c].Reserve(len(gids))
	}
	for _, g := range gids {
		key := s.t.entry(g)
		for c, t := range s.types {
			key = aggDecodeValue(bs[c], t, key)
		}
	}
	out := make([]arrow.Array, len(bs))
	for c, b := range bs {
		out[c] = b.NewArray()
		b.Release()
	}
	return out
}

func (s *serialTable) compact(keep []uint32, _ []int32) { s.t.compact(keep) }
