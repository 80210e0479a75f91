package exec

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"

	"github.com/streamsql/streamsql/watermark"
)

// Explode turns each input row into one row per element of its list column ListCol (Spark's
// explode): the other columns repeat, the list column is replaced by the element. A NULL or empty
// list produces no row. It is stateless.
type Explode struct {
	schema  *arrow.Schema
	listCol int
}

// NewExplode explodes column listCol of in, naming the element column elemName.
func NewExplode(in *arrow.Schema, listCol int, elemName string) (*Explode, error) {
	lt, ok := in.Field(listCol).Type.(*arrow.ListType)
	if !ok {
		return nil, fmt.Errorf("explode needs an array argument (e.g. split(s, ' ')), not %s", TypeName(in.Field(listCol).Type))
	}
	fields := append([]arrow.Field{}, in.Fields()...)
	fields[listCol] = arrow.Field{Name: elemName, Type: lt.Elem(), Nullable: true}
	return &Explode{schema: arrow.NewSchema(fields, nil), listCol: listCol}, nil
}

func (e *Explode) Schema() *arrow.Schema { return e.schema }

func (e *Explode) Push(ctx *Ctx, _ int, d Delta, emit Emit) error {
	list := d.Rec.Column(e.listCol).(*array.List)
	var parent, child []int64
	for i := 0; i < list.Len(); i++ {
		if list.IsNull(i) {
			continue
		}
		// ValueOffsets honours the array's offset: a sliced record (Limit, a split input) has a
		// list whose row i is entry offset+i of Offsets(), which indexing Offsets() directly missed.
		start, end := list.ValueOffsets(i)
		for k := start; k < end; k++ {
			parent = append(parent, int64(i))
			child = append(child, k)
		}
	}
	if len(parent) == 0 {
		return nil
	}
	pi := indexArray(ctx.Mem, parent)
	defer pi.Release()
	ci := indexArray(ctx.Mem, child)
	defer ci.Release()
	rows, err := TakeRecord(ctx, d.Rec, d.Rec.Schema(), pi)
	if err != nil {
		return err
	}
	defer rows.Release()
	elems, err := compute.TakeArray(compute.WithAllocator(ctx.Context, ctx.Mem), list.ListValues(), ci)
	if err != nil {
		return err
	}
	defer elems.Release()
	cols := append([]arrow.Array{}, rows.Columns()...)
	cols[e.listCol] = elems
	out := array.NewRecordBatch(e.schema, cols, int64(len(parent)))
	defer out.Release()
	if d.Weights == nil {
		return emit(Delta{Rec: out})
	}
	// Each element row carries its parent row's weight: retracting a row retracts its elements.
	wb := array.NewInt64Builder(ctx.Mem)
	defer wb.Release()
	wb.Reserve(len(parent))
	for _, p := range parent {
		wb.UnsafeAppend(d.Weights.Value(int(p)))
	}
	w := wb.NewInt64Array()
	defer w.Release()
	return emit(Delta{Rec: out, Weights: w})
}

func (e *Explode) Flush(*Ctx, watermark.Time, Emit) error { return nil }
func (e *Explode) Close() error                           { return nil }

// ValuesSource emits constant rows (VALUES lists, SELECT without FROM) as one record.
type ValuesSource struct {
	schema *arrow.Schema
	rows   [][]Datum
}

// NewValuesSource checks that every row has one datum per field of schema.
func NewValuesSource(schema *arrow.Schema, rows [][]Datum) (*ValuesSource, error) {
	for i, r := range rows {
		if len(r) != schema.NumFields() {
			return nil, fmt.Errorf("VALUES row %d has %d values, expected %d", i+1, len(r), schema.NumFields())
		}
	}
	return &ValuesSource{schema: schema, rows: rows}, nil
}

func (v *ValuesSource) Schema() *arrow.Schema { return v.schema }

func (v *ValuesSource) Scan(ctx *Ctx, emit Emit) error {
	b := array.NewRecordBuilder(ctx.Mem, v.schema)
	defer b.Release()
	for _, row := range v.rows {
		for c, val := range row {
			if err := AppendDatum(b.Field(c), val); err != nil {
				return err
			}
		}
	}
	built := b.NewRecordBatch()
	defer built.Release()
	// A record without columns (SELECT 1 has no FROM) still has its rows.
	rec := array.NewRecordBatch(v.schema, built.Columns(), int64(len(v.rows)))
	defer rec.Release()
	return emit(Delta{Rec: rec})
}
