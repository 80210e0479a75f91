package exec

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/streamsql/streamsql/watermark"
)

// SortKey orders by input column Col. NULLs sort after every value unless NullsFirst
// (PostgreSQL's default is NULLS LAST for ASC and NULLS FIRST for DESC; the planner sets it).
// DOUBLE values order as in PostgreSQL: NaN above +Infinity, -0.0 equal to 0.0.
type SortKey struct {
	Col        int
	Desc       bool
	NullsFirst bool
}

// Sort buffers its whole input and emits it ordered by Keys at Flush (a stable sort, so equal keys
// keep input order). It is blocking: nothing is emitted before Flush.
type Sort struct {
	schema  *arrow.Schema
	keys    []SortKey
	records []arrow.RecordBatch
}

func NewSort(in *arrow.Schema, keys []SortKey) (*Sort, error) {
	for _, k := range keys {
		if k.Col < 0 || k.Col >= in.NumFields() {
			return nil, fmt.Errorf("internal: sort key #%d out of range", k.Col)
		}
		switch in.Field(k.Col).Type.ID() {
		case arrow.LIST:
			return nil, fmt.Errorf("cannot sort by %s of type %s", in.Field(k.Col).Name, TypeName(in.Field(k.Col).Type))
		}
	}
	return &Sort{schema: in, keys: keys}, nil
}

func (s *Sort) Schema() *arrow.Schema { return s.schema }

func (s *Sort) Push(_ *Ctx, _ int, d Delta, _ Emit) error {
	d.Rec.Retain()
	s.records = append(s.records, d.Rec)
	return nil
}

func (s *Sort) Flush(ctx *Ctx, _ watermark.Time, emit Emit) error {
	all, err := ConcatRecords(ctx, s.schema, s.records)
	s.release()
	if err != nil {
		return err
	}
	defer all.Release()
	n := int(all.NumRows())
	if n == 0 {
		return nil
	}
	cmps := make([]func(i, j int) int, len(s.keys))
	for k, key := range s.keys {
		cmps[k] = columnComparator(all.Column(key.Col), key.Desc, key.NullsFirst)
	}
	perm := make([]int64, n)
	for i := range perm {
		perm[i] = int64(i)
	}
	slices.SortStableFunc(perm, func(a, b int64) int {
		for _, c := range cmps {
			if r := c(int(a), int(b)); r != 0 {
				return r
			}
		}
		return 0
	})
	// NewInt64Data retains the data, so the data's own reference is dropped once the array holds it.
	data := array.NewData(arrow.PrimitiveTypes.Int64, n, []*memoryBuffer{nil, int64Buffer(perm)}, nil, 0, 0)
	idx := array.NewInt64Data(data)
	data.Release()
	defer idx.Release()
	rec, err := TakeRecord(ctx, all, s.schema, idx)
	if err != nil {
		return err
	}
	defer rec.Release()
	return emit(Delta{Rec: rec})
}

func (s *Sort) release() {
	for _, r := range s.records {
		r.Release()
	}
	s.records = nil
}

func (s *Sort) Close() error { s.release(); return nil }

// columnComparator compares two rows of one column with SQL ordering: NULLs first or last
// regardless of direction.
func columnComparator(col arrow.Array, desc, nullsFirst bool) func(i, j int) int {
	var cmpValid func(i, j int) int
	switch a := col.(type) {
	case *array.Int64:
		cmpValid = func(i, j int) int { return cmp.Compare(a.Value(i), a.Value(j)) }
	case *array.Float64:
		cmpValid = func(i, j int) int { return floatTotalCmp(a.Value(i), a.Value(j)) }
	case *array.String:
		cmpValid = func(i, j int) int { return strings.Compare(a.Value(i), a.Value(j)) }
	case *array.Boolean:
		cmpValid = func(i, j int) int { return boolCmp(a.Value(i), a.Value(j)) }
	case *array.Timestamp:
		cmpValid = func(i, j int) int { return cmp.Compare(a.Value(i), a.Value(j)) }
	case *array.Date32:
		cmpValid = func(i, j int) int { return cmp.Compare(a.Value(i), a.Value(j)) }
	case *array.Duration:
		cmpValid = func(i, j int) int { return cmp.Compare(a.Value(i), a.Value(j)) }
	case *array.Decimal128:
		cmpValid = func(i, j int) int { return a.Value(i).Cmp(a.Value(j)) }
	default:
		cmpValid = func(i, j int) int { return 0 }
	}
	return func(i, j int) int {
		ni, nj := col.IsNull(i), col.IsNull(j)
		switch {
		case ni && nj:
			return 0
		case ni:
			if nullsFirst {
				return -1
			}
			return 1
		case nj:
			if nullsFirst {
				return 1
			}
			return -1
		}
		r := cmpValid(i, j)
		if desc {
			return -r
		}
		return r
	}
}
