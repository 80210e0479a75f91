package sources

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
)

// Computed adds a source's computed columns (CREATE SOURCE s (raw VARCHAR, ts AS
// to_timestamp(raw, ...))) to every record its connector decodes, before anything else — the
// watermark, the query — sees the record.
//
// A row whose expression fails (an unparsable timestamp, an overflow) is a bad record like one
// the decoder rejects: it goes to OnError (column named, value and reason given), and is dropped
// when OnError returns nil; without OnError the first failure is returned. Its location is the
// row's position in the decoded batch ('decoded batch row:N'), since the file line is no longer known after decoding.
type Computed struct {
	// Schema is the source's declared schema: physical and computed columns in declaration order.
	Schema *arrow.Schema
	// Layout says for each column of Schema where it comes from: i >= 0 is column i of the
	// decoded (physical) record, -1-j is Exprs[j].
	Layout []int
	// Exprs are the computed columns' expressions over the physical record.
	Exprs   []exec.Expr
	OnError func(*RecordError) error
}

// Apply returns rec with the computed columns added (owned by the caller); rec is borrowed.
func (c *Computed) Apply(ctx *exec.Ctx, rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	vals, err := c.eval(ctx, rec)
	if err == nil {
		return c.assemble(rec, vals), nil
	}
	// Some row fails: evaluate row by row to find it (and any others), report each and keep the
	// rest. The fast path above is the common case; this one runs only for a batch with a bad row.
	n := int(rec.NumRows())
	keep := make([]int64, 0, n)
	for i := 0; i < n; i++ {
		row := rec.NewSlice(int64(i), int64(i+1))
		v, err := c.eval(ctx, row)
		if err != nil {
			re := &RecordError{Path: "decoded batch row", Line: int64(i + 1), Column: c.failing(ctx, row), Raw: rowText(row), Reason: err.Error()}
			row.Release()
			if c.OnError == nil {
				return nil, re
			}
			if err := c.OnError(re); err != nil {
				return nil, err
			}
			continue
		}
		releaseAll(v)
		row.Release()
		keep = append(keep, int64(i))
	}
	idx := array.NewInt64Data(array.NewData(arrow.PrimitiveTypes.Int64, len(keep),
		[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int64Traits.CastToBytes(keep))}, nil, 0, 0))
	defer idx.Release()
	good, err := exec.TakeRecord(ctx, rec, rec.Schema(), idx)
	if err != nil {
		return nil, err
	}
	defer good.Release()
	if vals, err = c.eval(ctx, good); err != nil {
		return nil, err
	}
	return c.assemble(good, vals), nil
}

// eval computes every expression over rec.
func (c *Computed) eval(ctx *exec.Ctx, rec arrow.RecordBatch) ([]arrow.Array, error) {
	out := make([]arrow.Array, 0, len(c.Exprs))
	for _, e := range c.Exprs {
		v, err := e.Eval(ctx, rec)
		if err != nil {
			releaseAll(out)
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// failing names the first computed column whose expression fails on the one-row record row.
func (c *Computed) failing(ctx *exec.Ctx, row arrow.RecordBatch) string {
	for j, e := range c.Exprs {
		v, err := e.Eval(ctx, row)
		if err != nil {
			for i, l := range c.Layout {
				if l == -1-j {
					return c.Schema.Field(i).Name
				}
			}
			return ""
		}
		v.Release()
	}
	return ""
}

// assemble builds the declared record from the physical one and the computed values (whose
// references it takes over).
func (c *Computed) assemble(rec arrow.RecordBatch, vals []arrow.Array) arrow.RecordBatch {
	cols := make([]arrow.Array, len(c.Layout))
	for i, l := range c.Layout {
		if l >= 0 {
			cols[i] = rec.Column(l)
		} else {
			cols[i] = vals[-1-l]
		}
	}
	out := array.NewRecordBatch(c.Schema, cols, rec.NumRows())
	releaseAll(vals)
	return out
}

func releaseAll(as []arrow.Array) {
	for _, a := range as {
		a.Release()
	}
}

// rowText renders a one-row record's physical values as `col=value, ...` for a dead letter.
func rowText(row arrow.RecordBatch) string {
	parts := make([]string, row.NumCols())
	for i := range parts {
		f := row.Schema().Field(i)
		v := exec.ValueAt(row.Column(i), 0)
		s := "NULL"
		if v != nil {
			s = exec.FormatDatum(f.Type, v)
		}
		parts[i] = fmt.Sprintf("%s=%s", f.Name, s)
	}
	return truncRaw([]byte(strings.Join(parts, ", ")))
}
