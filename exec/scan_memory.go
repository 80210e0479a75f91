package exec

import (
	"github.com/apache/arrow-go/v18/arrow"
)

// MemorySource scans a fixed list of records (an in-memory table's snapshot), optionally keeping
// only some columns. It retains the records it is given until Release.
type MemorySource struct {
	schema  *arrow.Schema
	records []arrow.RecordBatch
	cols    []int // projection; nil keeps every column
}

// NewMemorySource scans records (all of schema full). cols, if not nil, selects and orders the
// columns emitted. The records are retained.
func NewMemorySource(full *arrow.Schema, records []arrow.RecordBatch, cols []int) *MemorySource {
	for _, r := range records {
		r.Retain()
	}
	schema := full
	if cols != nil {
		fields := make([]arrow.Field, len(cols))
		for i, c := range cols {
			fields[i] = full.Field(c)
		}
		schema = arrow.NewSchema(fields, nil)
	}
	return &MemorySource{schema: schema, records: records, cols: cols}
}

func (m *MemorySource) Schema() *arrow.Schema { return m.schema }

func (m *MemorySource) Scan(ctx *Ctx, emit Emit) error {
	for _, r := range m.records {
		if err := ctx.Err(); err != nil {
			return err
		}
		if m.cols == nil {
			if err := emit(Delta{Rec: r}); err != nil {
				return err
			}
			continue
		}
		rec := SelectColumns(r, m.schema, m.cols)
		err := emit(Delta{Rec: rec})
		rec.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// Release drops the source's references to its records.
func (m *MemorySource) Release() {
	for _, r := range m.records {
		r.Release()
	}
	m.records = nil
}
