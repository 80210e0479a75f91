package exec

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// A spilled group is stored as one row of the aggregate's snapshot schema (aggregate_snapshot.go:
// the keys, __rows, the accumulators' state columns), encoded by spillRowCodec. Reusing the
// snapshot's columns means the spill path has no accumulator code of its own: a group leaves
// memory through snapshotState and comes back through restoreState, the two functions the
// checkpoints already test.
//
// Encoding, column after column: a NULL is the byte 0; a value is the byte 1 and then the value
// (fixed-width little-endian for numbers, times and decimals; uvarint length and bytes for
// VARCHAR; uvarint count and the elements, each encoded the same way, for a LIST). The encoding
// is private to one running operator (the store is a cache emptied at every start), so it carries
// no version.

// spillRowCodec encodes rows of a schema's columns and decodes them into builders.
type spillRowCodec struct {
	schema *arrow.Schema
}

// appendRow appends the encoding of row r of cols (one array per schema field) to buf.
func (c spillRowCodec) appendRow(buf []byte, cols []arrow.Array, r int) []byte {
	for _, col := range cols {
		buf = spillAppendValue(buf, col, r)
	}
	return buf
}

func spillAppendValue(buf []byte, col arrow.Array, r int) []byte {
	if col.IsNull(r) {
		return append(buf, 0)
	}
	buf = append(buf, 1)
	switch a := col.(type) {
	case *array.Int64:
		return binary.LittleEndian.AppendUint64(buf, uint64(a.Value(r)))
	case *array.Float64:
		return binary.LittleEndian.AppendUint64(buf, math.Float64bits(a.Value(r)))
	case *array.Timestamp:
		return binary.LittleEndian.AppendUint64(buf, uint64(a.Value(r)))
	case *array.Duration:
		return binary.LittleEndian.AppendUint64(buf, uint64(a.Value(r)))
	case *array.Date32:
		return binary.LittleEndian.AppendUint32(buf, uint32(a.Value(r)))
	case *array.Boolean:
		if a.Value(r) {
			return append(buf, 1)
		}
		return append(buf, 0)
	case *array.String:
		s := a.Value(r)
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		return append(buf, s...)
	case *array.Decimal128:
		v := a.Value(r)
		buf = binary.LittleEndian.AppendUint64(buf, v.LowBits())
		return binary.LittleEndian.AppendUint64(buf, uint64(v.HighBits()))
	case *array.List:
		lo, hi := a.ValueOffsets(r)
		buf = binary.AppendUvarint(buf, uint64(hi-lo))
		vals := a.ListValues()
		for k := lo; k < hi; k++ {
			buf = spillAppendValue(buf, vals, int(k))
		}
		return buf
	}
	// The constructor refuses schemas with other types (spillCodecSupports), so this is a
	// programming error; the marker byte makes decoding fail loudly rather than misread.
	return append(buf, 0xff)
}

// spillCodecSupports reports whether every field of s has a type the codec handles.
func spillCodecSupports(s *arrow.Schema) error {
	var check func(t arrow.DataType) bool
	check = func(t arrow.DataType) bool {
		switch t.ID() {
		case arrow.NULL, arrow.INT64, arrow.FLOAT64, arrow.TIMESTAMP, arrow.DURATION, arrow.DATE32,
			arrow.BOOL, arrow.STRING, arrow.DECIMAL128:
			return true
		case arrow.LIST:
			return check(t.(*arrow.ListType).Elem())
		}
		return false
	}
	for _, f := range s.Fields() {
		if !check(f.Type) {
			return fmt.Errorf("state of type %s cannot be spilled", TypeName(f.Type))
		}
	}
	return nil
}

// decodeRow appends the row encoded in b to bs (one builder per schema field).
func (c spillRowCodec) decodeRow(b []byte, bs []array.Builder) error {
	for _, bld := range bs {
		var err error
		if b, err = spillDecodeValue(b, bld); err != nil {
			return err
		}
	}
	if len(b) != 0 {
		return fmt.Errorf("spilled group is damaged: %d bytes after its last column", len(b))
	}
	return nil
}

var errSpillShort = fmt.Errorf("spilled group is damaged: it ends inside a column")

func spillDecodeValue(b []byte, bld array.Builder) ([]byte, error) {
	if len(b) < 1 {
		return nil, errSpillShort
	}
	flag := b[0]
	b = b[1:]
	if flag == 0 {
		bld.AppendNull()
		return b, nil
	}
	if flag != 1 {
		return nil, fmt.Errorf("spilled group is damaged: marker byte %d", flag)
	}
	fixed := func(n int) ([]byte, error) {
		if len(b) < n {
			return nil, errSpillShort
		}
		return b[:n], nil
	}
	switch x := bld.(type) {
	case *array.Int64Builder, *array.Float64Builder, *array.TimestampBuilder, *array.DurationBuilder:
		v, err := fixed(8)
		if err != nil {
			return nil, err
		}
		u := binary.LittleEndian.Uint64(v)
		switch x := bld.(type) {
		case *array.Int64Builder:
			x.Append(int64(u))
		case *array.Float64Builder:
			x.Append(math.Float64frombits(u))
		case *array.TimestampBuilder:
			x.Append(arrow.Timestamp(int64(u)))
		case *array.DurationBuilder:
			x.Append(arrow.Duration(int64(u)))
		}
		return b[8:], nil
	case *array.Date32Builder:
		v, err := fixed(4)
		if err != nil {
			return nil, err
		}
		x.Append(arrow.Date32(int32(binary.LittleEndian.Uint32(v))))
		return b[4:], nil
	case *array.BooleanBuilder:
		v, err := fixed(1)
		if err != nil {
			return nil, err
		}
		x.Append(v[0] != 0)
		return b[1:], nil
	case *array.StringBuilder:
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return nil, errSpillShort
		}
		x.Append(string(b[k : k+int(n)]))
		return b[k+int(n):], nil
	case *array.Decimal128Builder:
		v, err := fixed(16)
		if err != nil {
			return nil, err
		}
		x.Append(decimal128.New(int64(binary.LittleEndian.Uint64(v[8:])), binary.LittleEndian.Uint64(v[:8])))
		return b[16:], nil
	case *array.ListBuilder:
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)) {
			return nil, errSpillShort
		}
		b = b[k:]
		x.Append(true)
		vb := x.ValueBuilder()
		for i := uint64(0); i < n; i++ {
			var err error
			if b, err = spillDecodeValue(b, vb); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	return nil, fmt.Errorf("spilled group is damaged: no decoder for builder %T", bld)
}
