package server

import (
	"fmt"
	"math/big"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/jackc/pgx/v5/pgtype"
	wire "github.com/jeroenrinzema/psql-wire"

	"github.com/streamsql/streamsql/exec"
)

// PostgreSQL type OIDs of the engine's SQL types.
const (
	oidBool      uint32 = 16
	oidInt8      uint32 = 20
	oidText      uint32 = 25
	oidFloat8    uint32 = 701
	oidUnknown   uint32 = 705
	oidVarchar   uint32 = 1043
	oidDate      uint32 = 1082
	oidTimestamp uint32 = 1114
	oidInterval  uint32 = 1186
	oidNumeric   uint32 = 1700
	oidInt2      uint32 = 21
	oidInt4      uint32 = 23
	oidFloat4    uint32 = 700
	oidBPChar    uint32 = 1042
	oidTimestTZ  uint32 = 1184
	oidName      uint32 = 19
	oidOID       uint32 = 26
	oidChar      uint32 = 18
	oidTime      uint32 = 1083
	oidTimeTZ    uint32 = 1266
)

// oidOf maps an engine column type to the PostgreSQL type OID announced in RowDescription. Types
// without a PostgreSQL counterpart (lists) are sent as text in their exec.FormatValue rendering.
func oidOf(t arrow.DataType) uint32 {
	switch t.ID() {
	case arrow.BOOL:
		return oidBool
	case arrow.INT64:
		return oidInt8
	case arrow.FLOAT64:
		return oidFloat8
	case arrow.DECIMAL128:
		return oidNumeric
	case arrow.TIMESTAMP:
		return oidTimestamp
	case arrow.DATE32:
		return oidDate
	case arrow.DURATION:
		return oidInterval
	}
	return oidText
}

// maxWireColumns is the most columns a RowDescription or DataRow can carry (an int16 count).
const maxWireColumns = 32767

// errTooManyColumns has SQLSTATE 54011 (too_many_columns).
type errTooManyColumns struct{ n int }

func (e errTooManyColumns) Error() string {
	return fmt.Sprintf("the result has %d columns; the PostgreSQL protocol carries at most %d", e.n, maxWireColumns)
}
func (errTooManyColumns) SQLState() string { return "54011" }

// checkColumnCount refuses a result the protocol cannot describe, instead of sending a
// RowDescription whose column count has wrapped around.
func checkColumnCount(n int) error {
	if n > maxWireColumns {
		return errTooManyColumns{n}
	}
	return nil
}

// columnsOf describes a result schema as RowDescription columns.
func columnsOf(schema *arrow.Schema) wire.Columns {
	if schema == nil {
		return nil
	}
	cols := make(wire.Columns, schema.NumFields())
	for i, f := range schema.Fields() {
		width := int16(-1)
		switch oidOf(f.Type) {
		case oidBool:
			width = 1
		case oidInt8, oidFloat8, oidTimestamp, oidDate:
			width = 8
		case oidInterval:
			width = 16
		}
		if oidOf(f.Type) == oidDate {
			width = 4
		}
		cols[i] = wire.Column{Name: f.Name, Oid: oidOf(f.Type), Width: width, AttrNo: int16(i + 1)}
	}
	return cols
}

// cell is one non-NULL result value on its way to the client. psql-wire does not tell the
// statement which format (text or binary) the client asked for, so a cell carries both: the
// PostgreSQL text rendering (exec.FormatValue, byte for byte what the CLI prints) and the Go value
// pgtype encodes in binary. The codecs registered by registerCellCodecs pick one per format.
type cell struct {
	text   string
	binary any
}

// cellValue converts row i of arr to what the data writer encodes: nil for NULL, else a cell.
func cellValue(arr arrow.Array, i int) any {
	if arr.DataType().ID() == arrow.NULL || arr.IsNull(i) { // a NULL array has no validity bitmap
		return nil
	}
	c := cell{text: exec.FormatValue(arr, i)}
	switch a := arr.(type) {
	case *array.Boolean:
		// PostgreSQL's boolean output is t/f; JDBC's getBoolean reads nothing else as true.
		c.binary, c.text = a.Value(i), "f"
		if a.Value(i) {
			c.text = "t"
		}
	case *array.Int64:
		c.binary = a.Value(i)
	case *array.Float64:
		c.binary = a.Value(i)
	case *array.String:
		c.binary = a.Value(i)
	case *array.Timestamp:
		c.binary = pgtype.Timestamp{Time: timeOfMicros(int64(a.Value(i))), Valid: true}
	case *array.Date32:
		c.binary = pgtype.Date{Time: timeOfMicros(int64(a.Value(i)) * 86400e6), Valid: true}
	case *array.Duration:
		us := int64(a.Value(i))
		c.binary = pgtype.Interval{Days: int32(us / 86400e6), Microseconds: us % 86400e6, Valid: true}
	case *array.Decimal128:
		c.binary = numericOf(a.Value(i), a.DataType().(*arrow.Decimal128Type).Scale)
	default:
		c.binary = c.text
	}
	return c
}

func numericOf(n decimal128.Num, scale int32) pgtype.Numeric {
	return pgtype.Numeric{Int: new(big.Int).Set(n.BigInt()), Exp: -scale, Valid: true}
}

// registerCellCodecs wraps the codecs of the OIDs oidOf announces so that a cell encodes as its
// text rendering in text format and as its Go value in binary format. Other values pass through
// to the original codec unchanged (catalog emulation writes plain Go values).
func registerCellCodecs(m *pgtype.Map) {
	for _, oid := range []uint32{oidBool, oidInt8, oidText, oidFloat8, oidNumeric, oidTimestamp, oidDate, oidInterval, oidVarchar, oidName, oidOID, oidChar, oidInt4, oidInt2} {
		t, ok := m.TypeForOID(oid)
		if !ok {
			continue
		}
		m.RegisterType(&pgtype.Type{Name: t.Name, OID: t.OID, Codec: cellCodec{t.Codec}})
	}
}

type cellCodec struct{ pgtype.Codec }

func (c cellCodec) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	if _, ok := value.(cell); ok {
		return cellPlan{m: m, oid: oid, format: format}
	}
	return c.Codec.PlanEncode(m, oid, format, value)
}

type cellPlan struct {
	m      *pgtype.Map
	oid    uint32
	format int16
}

func (p cellPlan) Encode(value any, buf []byte) ([]byte, error) {
	c := value.(cell)
	if p.format == pgtype.TextFormatCode {
		return append(buf, c.text...), nil
	}
	out, err := p.m.Encode(p.oid, p.format, c.binary, buf)
	if err != nil {
		return nil, fmt.Errorf("encoding %q as OID %d: %w", c.text, p.oid, err)
	}
	return out, nil
}

func timeOfMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }
