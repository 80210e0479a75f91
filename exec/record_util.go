package exec

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// relabel returns rec's columns under schema s (same types, other names). The caller owns the
// result.
func relabel(rec arrow.RecordBatch, s *arrow.Schema) arrow.RecordBatch {
	return array.NewRecordBatch(s, rec.Columns(), rec.NumRows())
}

// ConcatRecords concatenates records of one schema into a single record owned by the caller. With
// no records it returns an empty record.
func ConcatRecords(ctx *Ctx, s *arrow.Schema, recs []arrow.RecordBatch) (arrow.RecordBatch, error) {
	if len(recs) == 1 {
		recs[0].Retain()
		return recs[0], nil
	}
	if len(recs) == 0 {
		return emptyRecord(ctx, s), nil
	}
	cols := make([]arrow.Array, s.NumFields())
	var rows int64
	for _, r := range recs {
		rows += r.NumRows()
	}
	for c := range cols {
		parts := make([]arrow.Array, len(recs))
		for i, r := range recs {
			parts[i] = r.Column(c)
		}
		col, err := array.Concatenate(parts, ctx.Mem)
		if err != nil {
			for _, done := range cols[:c] {
				done.Release()
			}
			return nil, err
		}
		cols[c] = col
	}
	out := array.NewRecordBatch(s, cols, rows)
	for _, c := range cols {
		c.Release()
	}
	return out, nil
}

type memoryBuffer = memory.Buffer

// int64Buffer wraps a Go slice as an Arrow buffer without copying (the Go allocator owns it).
func int64Buffer(v []int64) *memory.Buffer {
	return memory.NewBufferBytes(arrow.Int64Traits.CastToBytes(v))
}

// TakeRecord gathers rows idx of rec (NULL index gives a NULL row). The caller owns the result.
func TakeRecord(ctx *Ctx, rec arrow.RecordBatch, schema *arrow.Schema, idx arrow.Array) (arrow.RecordBatch, error) {
	ectx := compute.WithAllocator(ctx.Context, ctx.Mem)
	cols := make([]arrow.Array, rec.NumCols())
	for c := range cols {
		col, err := compute.TakeArray(ectx, rec.Column(c), idx)
		if err != nil {
			for _, x := range cols[:c] {
				x.Release()
			}
			return nil, err
		}
		cols[c] = col
	}
	out := array.NewRecordBatch(schema, cols, int64(idx.Len()))
	for _, c := range cols {
		c.Release()
	}
	return out, nil
}

// SelectColumns returns the columns cols of rec, in that order, as a record of schema s (which
// describes them). The caller owns the result; rec is borrowed.
func SelectColumns(rec arrow.RecordBatch, s *arrow.Schema, cols []int) arrow.RecordBatch {
	out := make([]arrow.Array, len(cols))
	for i, c := range cols {
		out[i] = rec.Column(c)
	}
	return array.NewRecordBatch(s, out, rec.NumRows())
}
