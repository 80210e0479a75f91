package sources

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
)

// PushStream is the "push" connector: rows handed in through the Go API (Push, PushRows) are
// buffered in memory until committed. The offset {"rows": N} counts rows pushed since the stream
// was opened. Push, PushRows, Latest, Read and Commit are safe for concurrent use. The buffer does
// not survive a restart: the application must push again what was not committed.
//
// Push takes no options besides connector.
type PushStream struct {
	name   string
	schema *arrow.Schema
	mem    memory.Allocator

	mu     sync.Mutex
	recs   []arrow.RecordBatch // uncommitted records (owned), each non-empty
	starts []int64             // row number of each record's first row
	total  int64               // rows pushed
	base   int64               // rows before base are committed
	closed bool
}

// NewPushStream opens a push source; see PushStream.
func NewPushStream(cfg StreamConfig) (*PushStream, error) {
	cfg = cfg.withDefaults()
	if err := cfg.CheckOptions(); err != nil {
		return nil, err
	}
	if cfg.Schema == nil || cfg.Schema.NumFields() == 0 {
		return nil, fmt.Errorf("source %s: a streaming source needs at least one column", cfg.Name)
	}
	for _, f := range cfg.Schema.Fields() {
		switch f.Type.ID() {
		case arrow.BOOL, arrow.INT64, arrow.FLOAT64, arrow.STRING, arrow.TIMESTAMP, arrow.DATE32,
			arrow.DURATION, arrow.DECIMAL128:
		default:
			return nil, fmt.Errorf("source %s: column %s: the push connector does not support type %s", cfg.Name, f.Name, exec.TypeName(f.Type))
		}
	}
	return &PushStream{name: cfg.Name, schema: cfg.Schema, mem: cfg.Mem}, nil
}

// Push appends records whose columns match the declared schema in order and type (names are not
// compared). The stream retains the columns; the caller keeps its own references and may release
// them after Push returns. Either every record is appended or, on an error, none.
func (p *PushStream) Push(recs ...arrow.RecordBatch) error {
	for i, rec := range recs {
		if err := p.checkSchema(rec.Schema()); err != nil {
			if len(recs) > 1 {
				return fmt.Errorf("source %s: record %d: %v", p.name, i, err)
			}
			return fmt.Errorf("source %s: %v", p.name, err)
		}
	}
	own := make([]arrow.RecordBatch, 0, len(recs))
	for _, rec := range recs {
		if rec.NumRows() > 0 {
			own = append(own, array.NewRecordBatch(p.schema, rec.Columns(), rec.NumRows()))
		}
	}
	return p.append(own)
}

func (p *PushStream) checkSchema(s *arrow.Schema) error {
	want := p.schema
	if s.NumFields() != want.NumFields() {
		return fmt.Errorf("record has %d columns (%s), the source declares %d (%s)",
			s.NumFields(), schemaString(s), want.NumFields(), schemaString(want))
	}
	for i, f := range s.Fields() {
		w := want.Field(i)
		if !arrow.TypeEqual(f.Type, w.Type) {
			return fmt.Errorf("column %d %s: want %s, got %s", i+1, w.Name, exec.TypeName(w.Type), exec.TypeName(f.Type))
		}
	}
	return nil
}

// append takes ownership of recs.
func (p *PushStream) append(recs []arrow.RecordBatch) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		for _, r := range recs {
			r.Release()
		}
		return fmt.Errorf("source %s: push to a closed stream", p.name)
	}
	for _, r := range recs {
		p.recs = append(p.recs, r)
		p.starts = append(p.starts, p.total)
		p.total += r.NumRows()
	}
	return nil
}

// PushRows converts Go values to one record and appends it. Each row holds one value per column:
// nil (NULL), bool (BOOLEAN), int/int8..int64/uint8..uint32 (BIGINT, DECIMAL), float64/float32
// (DOUBLE, DECIMAL), string (VARCHAR, valid UTF-8; DECIMAL text), time.Time (TIMESTAMP; DATE takes
// the date in the value's location), time.Duration (INTERVAL, truncated to microseconds),
// decimal128.Num (DECIMAL, unscaled). Errors name the 0-based row index and the column, e.g.
// "row 3 column ts: want TIMESTAMP, got string"; on an error nothing is appended.
func (p *PushStream) PushRows(rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	b := array.NewRecordBuilder(p.mem, p.schema)
	defer b.Release()
	b.Reserve(len(rows))
	for i, row := range rows {
		if len(row) != len(b.Fields()) {
			return fmt.Errorf("source %s: row %d has %d values, the source declares %d columns (%s)",
				p.name, i, len(row), len(b.Fields()), schemaString(p.schema))
		}
		for j, v := range row {
			if err := appendGo(b.Field(j), p.schema.Field(j).Type, v); err != nil {
				return fmt.Errorf("source %s: row %d column %s: %v", p.name, i, p.schema.Field(j).Name, err)
			}
		}
	}
	return p.append([]arrow.RecordBatch{b.NewRecordBatch()})
}

// appendGo appends one Go value to a builder of SQL type t.
func appendGo(b array.Builder, t arrow.DataType, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	bad := func() error { return fmt.Errorf("want %s, got %T", exec.TypeName(t), v) }
	switch bb := b.(type) {
	case *array.BooleanBuilder:
		x, ok := v.(bool)
		if !ok {
			return bad()
		}
		bb.Append(x)
	case *array.Int64Builder:
		x, ok, err := goInt(v)
		if err != nil {
			return err
		}
		if !ok {
			return bad()
		}
		bb.Append(x)
	case *array.Float64Builder:
		switch x := v.(type) {
		case float64:
			bb.Append(x)
		case float32:
			bb.Append(float64(x))
		default:
			return bad()
		}
	case *array.StringBuilder:
		x, ok := v.(string)
		if !ok {
			return bad()
		}
		if !utf8.ValidString(x) {
			return fmt.Errorf("invalid UTF-8 in VARCHAR value %q", x)
		}
		bb.Append(x)
	case *array.TimestampBuilder:
		x, ok := v.(time.Time)
		if !ok {
			return bad()
		}
		bb.Append(arrow.Timestamp(x.UnixMicro()))
	case *array.Date32Builder:
		x, ok := v.(time.Time)
		if !ok {
			return bad()
		}
		y, m, d := x.Date()
		bb.Append(arrow.Date32(floorDiv(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix(), 86400)))
	case *array.DurationBuilder:
		x, ok := v.(time.Duration)
		if !ok {
			return bad()
		}
		bb.Append(arrow.Duration(x / time.Microsecond))
	case *array.Decimal128Builder:
		n, err := goDecimal(t.(*arrow.Decimal128Type), v)
		if err != nil {
			return err
		}
		bb.Append(n)
	default:
		return bad()
	}
	return nil
}

// goInt converts Go integer types; ok is false for non-integers.
func goInt(v any) (int64, bool, error) {
	switch x := v.(type) {
	case int:
		return int64(x), true, nil
	case int8:
		return int64(x), true, nil
	case int16:
		return int64(x), true, nil
	case int32:
		return int64(x), true, nil
	case int64:
		return x, true, nil
	case uint8:
		return int64(x), true, nil
	case uint16:
		return int64(x), true, nil
	case uint32:
		return int64(x), true, nil
	case uint:
		if uint64(x) > math.MaxInt64 {
			return 0, true, fmt.Errorf("value %d is out of BIGINT range", x)
		}
		return int64(x), true, nil
	case uint64:
		if x > math.MaxInt64 {
			return 0, true, fmt.Errorf("value %d is out of BIGINT range", x)
		}
		return int64(x), true, nil
	}
	return 0, false, nil
}

func goDecimal(t *arrow.Decimal128Type, v any) (decimal128.Num, error) {
	var n decimal128.Num
	switch x := v.(type) {
	case decimal128.Num:
		n = x
	case float64, float32:
		f := 0.0
		if y, ok := x.(float64); ok {
			f = y
		} else {
			f = float64(x.(float32))
		}
		var err error
		if n, err = decimal128.FromFloat64(f, t.Precision, t.Scale); err != nil {
			return n, fmt.Errorf("value %v does not fit %s", f, exec.TypeName(t))
		}
	case string:
		d, st := parseDecimal([]byte(strings.TrimSpace(x)), t.Precision, t.Scale)
		if st == decSyntax {
			return n, fmt.Errorf("invalid %s %q", exec.TypeName(t), x)
		}
		if st == decOverflow {
			return n, fmt.Errorf("value %s does not fit %s", x, exec.TypeName(t))
		}
		return d, nil
	default:
		i, ok, err := goInt(v)
		if err != nil {
			return n, err
		}
		if !ok {
			return n, fmt.Errorf("want %s, got %T", exec.TypeName(t), v)
		}
		digits := len(strings.TrimLeft(strings.TrimPrefix(fmt.Sprint(i), "-"), "0"))
		if digits+int(t.Scale) > int(t.Precision) {
			return n, fmt.Errorf("value %d does not fit %s", i, exec.TypeName(t))
		}
		n = decimal128.FromI64(i).Mul(decimal128.GetScaleMultiplier(int(t.Scale)))
	}
	if !n.FitsInPrecision(t.Precision) {
		return n, fmt.Errorf("value %s does not fit %s", n.ToString(t.Scale), exec.TypeName(t))
	}
	return n, nil
}

// Schema returns the declared schema.
func (p *PushStream) Schema() *arrow.Schema { return p.schema }

// Latest returns {"rows": number of rows pushed so far}.
func (p *PushStream) Latest(ctx context.Context, from Offset) (Offset, error) {
	start, err := parseCountOffset(p.name, "rows", from)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	total := p.total
	p.mu.Unlock()
	if start > total {
		return nil, fmt.Errorf("source %s: offset %s is beyond the %d rows pushed (push sources cannot resume after a restart)", p.name, from, total)
	}
	return latestCount("rows", from, start, total), nil
}

// FrozenView returns a view of the stream whose Latest stops at the rows pushed so far (for an
// available_now query reading a push source other queries share); Read and Commit pass through.
func (p *PushStream) FrozenView() Stream {
	p.mu.Lock()
	defer p.mu.Unlock()
	return &frozenPush{PushStream: p, limit: p.total}
}

type frozenPush struct {
	*PushStream
	limit int64
}

func (f *frozenPush) Latest(ctx context.Context, from Offset) (Offset, error) {
	start, err := parseCountOffset(f.name, "rows", from)
	if err != nil {
		return nil, err
	}
	return latestCount("rows", from, start, max(start, f.limit)), nil
}

// Read emits the pushed rows [from, to) as slices of the pushed records (one per record touched);
// emit borrows each.
func (p *PushStream) Read(ctx context.Context, from, to Offset, emit func(arrow.RecordBatch) error) error {
	a, b, err := parseRange(p.name, "rows", from, to)
	if err != nil {
		return err
	}
	if a == b {
		return nil
	}
	// Slices retain the record's buffers, so they stay valid after the lock is released even if
	// a concurrent Commit releases the records.
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return fmt.Errorf("source %s: read from a closed stream", p.name)
	}
	if a < p.base || b > p.total {
		p.mu.Unlock()
		return fmt.Errorf("source %s: rows [%d, %d) are not buffered (held: [%d, %d); committed rows are discarded)",
			p.name, a, b, p.base, p.total)
	}
	var slices []arrow.RecordBatch
	for i, rec := range p.recs {
		s, e := p.starts[i], p.starts[i]+rec.NumRows()
		if e <= a || s >= b {
			continue
		}
		slices = append(slices, rec.NewSlice(max(a, s)-s, min(b, e)-s))
	}
	p.mu.Unlock()
	defer func() {
		for _, s := range slices {
			s.Release()
		}
	}()
	for _, s := range slices {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := emit(s); err != nil {
			return err
		}
	}
	return nil
}

// Commit releases the records that lie entirely before end.
func (p *PushStream) Commit(end Offset) error {
	e, err := parseCountOffset(p.name, "rows", end)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if e > p.total {
		return fmt.Errorf("source %s: cannot commit %s: only %d rows were pushed", p.name, end, p.total)
	}
	if e <= p.base {
		return nil
	}
	p.base = e
	k := 0
	for k < len(p.recs) && p.starts[k]+p.recs[k].NumRows() <= e {
		p.recs[k].Release()
		k++
	}
	p.recs = append(p.recs[:0:0], p.recs[k:]...)
	p.starts = append(p.starts[:0:0], p.starts[k:]...)
	return nil
}

// Close releases the buffered records; later pushes fail.
func (p *PushStream) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	for _, r := range p.recs {
		r.Release()
	}
	p.recs, p.starts = nil, nil
	return nil
}
