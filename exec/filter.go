package exec

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"

	"github.com/streamsql/streamsql/watermark"
)

// Filter emits the rows of its single input for which Pred is TRUE (NULL and FALSE drop the row).
// It is stateless: Flush emits nothing.
type Filter struct {
	schema *arrow.Schema
	pred   Expr
}

// NewFilter returns a filter over records of schema in. pred must be BOOLEAN.
func NewFilter(in *arrow.Schema, pred Expr) (*Filter, error) {
	if pred.Type().ID() != arrow.BOOL && pred.Type().ID() != arrow.NULL {
		return nil, fmt.Errorf("filter condition must be BOOLEAN, not %s: %s", TypeName(pred.Type()), pred)
	}
	return &Filter{schema: in, pred: pred}, nil
}

func (f *Filter) Schema() *arrow.Schema { return f.schema }

func (f *Filter) Push(ctx *Ctx, _ int, d Delta, emit Emit) error {
	mask, err := f.pred.Eval(ctx, d.Rec)
	if err != nil {
		return err
	}
	defer mask.Release()
	out, err := FilterRecord(ctx, d.Rec, mask)
	if err != nil {
		return err
	}
	defer out.Release()
	if out.NumRows() == 0 {
		return nil
	}
	if d.Weights == nil {
		return emit(Delta{Rec: out})
	}
	if out.NumRows() == d.Rec.NumRows() {
		return emit(Delta{Rec: out, Weights: d.Weights})
	}
	w := filterWeights(ctx, d.Weights, mask, int(out.NumRows()))
	defer w.Release()
	return emit(Delta{Rec: out, Weights: w})
}

// filterWeights keeps the weights of the rows where mask is TRUE (kept of them), so a filtered
// retraction stays a retraction of the same row.
func filterWeights(ctx *Ctx, w *array.Int64, mask arrow.Array, kept int) *array.Int64 {
	b := array.NewInt64Builder(ctx.Mem)
	defer b.Release()
	b.Reserve(kept)
	if m, ok := mask.(*array.Boolean); ok {
		for i := 0; i < m.Len(); i++ {
			if m.IsValid(i) && m.Value(i) {
				b.UnsafeAppend(w.Value(i))
			}
		}
	}
	return b.NewInt64Array()
}

func (f *Filter) Flush(*Ctx, watermark.Time, Emit) error { return nil }
func (f *Filter) Close() error                           { return nil }

// FilterRecord keeps the rows of rec where mask is TRUE. mask may be BOOLEAN or NULL-typed (no row
// passes). The result is owned by the caller; when every row passes it is rec itself, retained.
func FilterRecord(ctx *Ctx, rec arrow.RecordBatch, mask arrow.Array) (arrow.RecordBatch, error) {
	n := int(rec.NumRows())
	if mask.DataType().ID() == arrow.NULL || mask.NullN() == n {
		return emptyRecord(ctx, rec.Schema()), nil
	}
	b := mask.(*array.Boolean)
	trues := 0
	for i := 0; i < n; i++ {
		if b.IsValid(i) && b.Value(i) {
			trues++
		}
	}
	if trues == n {
		rec.Retain()
		return rec, nil
	}
	if trues == 0 {
		return emptyRecord(ctx, rec.Schema()), nil
	}
	opts := compute.FilterOptions{NullSelection: compute.SelectionDropNulls}
	ectx := compute.WithAllocator(ctx.Context, ctx.Mem)
	out, err := compute.FilterRecordBatch(ectx, rec, mask, &opts)
	if err != nil {
		return nil, fmt.Errorf("internal: filter: %w", err)
	}
	return out, nil
}

// emptyRecord returns a record of schema s without rows, owned by the caller. (The column arrays
// are released here: array.NewRecordBatch retains what it is given, so handing it fresh arrays
// without releasing them leaked their buffers.)
func emptyRecord(ctx *Ctx, s *arrow.Schema) arrow.RecordBatch {
	cols := make([]arrow.Array, s.NumFields())
	for i, f := range s.Fields() {
		b := array.NewBuilder(ctx.Mem, f.Type)
		cols[i] = b.NewArray()
		b.Release()
	}
	rec := array.NewRecordBatch(s, cols, 0)
	for _, c := range cols {
		c.Release()
	}
	return rec
}
