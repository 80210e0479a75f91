package exec

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/watermark"
)

// TableChanges turns a relation that is read whole every epoch (a table, VALUES, a query over
// them) into the changes of its contents: it keeps the multiset of rows it saw in the previous
// epoch and, at Flush, emits the difference between the rows pushed in this epoch and those. The
// first epoch emits every row; an epoch in which the table did not change emits nothing; a row
// deleted from the table is retracted. It lets a static branch of a continuous query (UNION ALL
// of a stream with a table) contribute the table as it is at each epoch, as a stream-static join
// reads it, without emitting its rows again every epoch.
//
// Rows are equal when every column is equal or both are NULL (DOUBLE -0.0 equals 0.0, NaN equals
// NaN); a retraction repeats the bits of the row stored first.
//
// Call order: Push on input 0 any number of times per epoch (nil weights mean +1 per row: the
// relation's rows, all of them, every epoch), then Flush; SnapshotState only between epochs;
// Close at the end. Flush emits the retractions first (negative weights) and then the insertions
// (positive weights; nil when all are +1), each in records of at most distinctChunk rows; the
// output schema is the input schema. Push Retains a pushed record while any of its rows is
// stored; emitted records are released after emit returns.
//
// Errors (a malformed delta, a weight overflowing BIGINT, an error returned by emit, cancellation)
// may leave the state partly updated: after an error the operator must only be closed, and the
// query restarts from its last checkpoint.
type TableChanges struct {
	schema  *arrow.Schema
	store   *rowStore
	index   map[string]*tableRow
	pushed  []*tableRow // rows pushed in this epoch (each once)
	keyBuf  []byte
	flushed bool // a Flush ran since the last restore or start
}

type tableRow struct {
	key       string
	ref       rowRef
	prev, cur int64 // count in the last epoch's relation, and in this epoch's so far
	pushed    bool
}

// NewTableChanges returns a TableChanges over rows of schema in.
func NewTableChanges(in *arrow.Schema) (*TableChanges, error) {
	for _, f := range in.Fields() {
		if f.Type.ID() == arrow.LIST {
			return nil, Errorf(CodeFeatureNotSupported, "a table with the %s column %s in a continuous query's UNION is not supported", TypeName(f.Type), f.Name)
		}
	}
	return &TableChanges{schema: in, store: newRowStore(in), index: map[string]*tableRow{}}, nil
}

func (t *TableChanges) Schema() *arrow.Schema { return t.schema }

// StateRows is the number of distinct rows of the last epoch's relation.
func (t *TableChanges) StateRows() int64 { return int64(len(t.index)) }

// Push adds d's rows to this epoch's relation. Nothing is emitted before Flush.
func (t *TableChanges) Push(ctx *Ctx, input int, d Delta, _ Emit) error {
	if input != 0 {
		return fmt.Errorf("internal: TableChanges has one input, got input %d", input)
	}
	weight, err := deltaWeights("TableChanges", d)
	if err != nil {
		return err
	}
	cols := d.Rec.Columns()
	for r := 0; r < int(d.Rec.NumRows()); r++ {
		w := weight(r)
		if w == 0 {
			continue
		}
		t.keyBuf = AppendRowKey(t.keyBuf[:0], cols, r)
		row, ok := t.index[string(t.keyBuf)]
		if !ok {
			row = &tableRow{key: string(t.keyBuf), ref: t.store.add(d.Rec, r)}
			t.index[row.key] = row
		}
		if !row.pushed {
			row.pushed = true
			t.pushed = append(t.pushed, row)
		}
		if row.cur, err = addWeight(row.cur, w); err != nil {
			return fmt.Errorf("TableChanges: %w", err)
		}
	}
	return ctx.Err()
}

// Flush emits the change from the last epoch's relation to this one's.
func (t *TableChanges) Flush(ctx *Ctx, _ watermark.Time, emit Emit) error {
	var gone, came []rowRef
	var goneW, cameW []int64
	for _, row := range t.index {
		switch d := row.cur - row.prev; {
		case d < 0:
			gone, goneW = append(gone, row.ref), append(goneW, d)
		case d > 0:
			came, cameW = append(came, row.ref), append(cameW, d)
		}
	}
	err := t.emitRows(ctx, gone, goneW, emit)
	if err == nil {
		err = t.emitRows(ctx, came, cameW, emit)
	}
	for key, row := range t.index {
		row.prev, row.cur, row.pushed = row.cur, 0, false
		if row.prev == 0 {
			delete(t.index, key)
			t.store.drop(row.ref)
		}
	}
	t.pushed = t.pushed[:0]
	t.flushed = true
	if err != nil {
		return err
	}
	if t.store.wasteful() {
		t.store.compact(ctx.Mem, func(fn func(*rowRef)) {
			for _, row := range t.index {
				fn(&row.ref)
			}
		})
	}
	return ctx.Err()
}

func (t *TableChanges) emitRows(ctx *Ctx, refs []rowRef, w []int64, emit Emit) error {
	srcs := t.store.recs()
	for lo := 0; lo < len(refs); lo += distinctChunk {
		hi := min(len(refs), lo+distinctChunk)
		if err := emitStored(ctx, t.schema, srcs, refs[lo:hi], w[lo:hi], emit); err != nil {
			return err
		}
	}
	return nil
}

// Close releases the state. The operator must not be used afterwards.
func (t *TableChanges) Close() error {
	t.store.release()
	t.index, t.pushed = map[string]*tableRow{}, nil
	return nil
}

// Checkpointing (the Snapshotter interface).
//
// Snapshot format "streamsql.table_changes.v1": one row per distinct row of the last epoch's
// relation, with the input columns followed by __count BIGINT (its multiplicity, positive).
// Records have at most storeChunkRows rows; an empty state is one empty record.

const tableChangesSnapshotFormat = "streamsql.table_changes.v1"

func (t *TableChanges) stateSchema() *arrow.Schema {
	fs := make([]arrow.Field, 0, t.schema.NumFields()+1)
	for _, f := range t.schema.Fields() {
		fs = append(fs, arrow.Field{Name: f.Name, Type: f.Type, Nullable: true})
	}
	fs = append(fs, arrow.Field{Name: "__count", Type: Int64})
	md := arrow.NewMetadata([]string{snapMetaFormat}, []string{tableChangesSnapshotFormat})
	return arrow.NewSchema(fs, &md)
}

// SnapshotState returns the state as records owned by the caller; call it after Flush.
func (t *TableChanges) SnapshotState(ctx *Ctx) (*arrow.Schema, []arrow.RecordBatch, error) {
	if len(t.pushed) > 0 {
		return nil, nil, fmt.Errorf("internal: TableChanges snapshot taken before Flush")
	}
	schema := t.stateSchema()
	refs := make([]rowRef, 0, len(t.index))
	counts := make([]int64, 0, len(t.index))
	for _, row := range t.index {
		refs = append(refs, row.ref)
		counts = append(counts, row.prev)
	}
	recs := snapshotRows(ctx, schema, t.store, refs, func(lo, hi int) []arrow.Array {
		return []arrow.Array{snapFixed(ctx.Mem, Int64, counts[lo:hi])}
	})
	return schema, recs, nil
}

// RestoreState loads a snapshot of SnapshotState into this fresh operator (before its first
// Push). It borrows recs (Retaining those it keeps rows of).
func (t *TableChanges) RestoreState(ctx *Ctx, recs []arrow.RecordBatch) error {
	if len(t.index) > 0 || t.flushed {
		return fmt.Errorf("internal: TableChanges RestoreState must be called on a fresh operator")
	}
	if len(recs) == 0 {
		return errStateMismatch("the TableChanges snapshot has no records (expected format %s)", tableChangesSnapshotFormat)
	}
	want := t.stateSchema()
	nin := t.schema.NumFields()
	for _, rec := range recs {
		if _, err := snapCheckSchema(want, rec.Schema(), []string{snapMetaFormat}); err != nil {
			return err
		}
		data := SelectColumns(rec, t.schema, seqInts(nin))
		counts := snapInt64s(rec.Column(nin))
		cols := data.Columns()
		for r := 0; r < int(data.NumRows()); r++ {
			if rec.Column(nin).IsNull(r) || counts[r] <= 0 {
				data.Release()
				return fmt.Errorf("checkpoint state is damaged: TableChanges row %d has count %v", r, ValueAt(rec.Column(nin), r))
			}
			t.keyBuf = AppendRowKey(t.keyBuf[:0], cols, r)
			if _, dup := t.index[string(t.keyBuf)]; dup {
				data.Release()
				return fmt.Errorf("checkpoint state is damaged: TableChanges row %d repeats an earlier row", r)
			}
			t.index[string(t.keyBuf)] = &tableRow{key: string(t.keyBuf), ref: t.store.add(data, r), prev: counts[r]}
		}
		data.Release()
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

var (
	_ Snapshotter = (*TableChanges)(nil)
	_ Operator    = (*TableChanges)(nil)
)
