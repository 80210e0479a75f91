package exec

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/streamsql/streamsql/watermark"
)

// ResultTable sits at the root of a continuous query and keeps its result table: the multiset of
// the rows emitted so far, consolidated (a row's count is the sum of its weights). It serves two
// purposes:
//
//   - Complete mode for any query (ResultEmitTable): every Flush emits the whole table, each row
//     with its count as weight; Push emits nothing.
//   - Update mode into a sink that forgets its contents on a restart (an in-memory view,
//     ResultEmitChanges): Push forwards every delta unchanged, and after RestoreState the first
//     Push or Flush first emits the whole restored table as insertions, so the fresh sink holds
//     the result again before the epoch's changes reach it.
//
// Rows are equal when every column is equal or both NULL (AppendRowKey). A row whose count drops
// below zero (a retraction of a row never emitted) is an error. Push borrows d; emitted records
// are released after emit returns. One input (0).
type ResultTable struct {
	stateChanges
	schema  *arrow.Schema
	emit    ResultEmit
	upsert  []int // with keys: each row replaces the row of its key (the input is upserts)
	keyCols []arrow.Array
	rows    map[string]*resultRow
	order   []*resultRow
	replay  bool
	keyBuf  []byte
	deadCnt int
	nextSeq int64
	bytes   int64 // StateBytes of the live rows

	// Incremental checkpoints (result_table_changes.go): once a snapshot call has been made, the
	// keys of rows changed and the rows removed since the last one.
	snapTracking bool
	snapDirty    map[string]struct{}
	snapGone     []*resultRow
}

// ResultEmit selects what a ResultTable emits.
type ResultEmit int

const (
	// ResultEmitChanges forwards the changes (update mode).
	ResultEmitChanges ResultEmit = iota
	// ResultEmitTable emits the whole table at every Flush (complete mode).
	ResultEmitTable
)

type resultRow struct {
	key  string
	vals []Datum
	n    int64
	seq  int64 // creation order: t.order's order, for changelogs in first-insertion order
}

// newRow returns a row for key, placed after every row the table holds.
func (t *ResultTable) newRow(key string, vals []Datum, n int64) *resultRow {
	t.nextSeq++
	return &resultRow{key: key, vals: vals, n: n, seq: t.nextSeq}
}

// NewResultTable returns a result table over rows of schema (also its output schema). With
// upsertKeys (column indexes), the input is upserts rather than changes: each row, weight +1,
// replaces the row held for its key.
func NewResultTable(schema *arrow.Schema, emit ResultEmit, upsertKeys []int) (*ResultTable, error) {
	for _, k := range upsertKeys {
		if k < 0 || k >= schema.NumFields() {
			return nil, fmt.Errorf("result table: key column %d out of range", k)
		}
	}
	for _, f := range schema.Fields() {
		if f.Type.ID() == arrow.LIST {
			return nil, fmt.Errorf("a result table cannot keep column %s of type %s", f.Name, TypeName(f.Type))
		}
	}
	return &ResultTable{schema: schema, emit: emit, upsert: upsertKeys, rows: map[string]*resultRow{}}, nil
}

func (t *ResultTable) Schema() *arrow.Schema { return t.schema }

// StateRows is the number of distinct rows held.
func (t *ResultTable) StateRows() int64 { return int64(len(t.rows)) }

// StateBytes estimates the memory held (kept as rows come and go: progress asks every epoch).
func (t *ResultTable) StateBytes() int64 { return t.bytes }

// rowBytes is StateBytes' estimate for one row.
func rowBytes(r *resultRow) int64 { return int64(len(r.key)) + 48 + int64(len(r.vals))*16 }

func (t *ResultTable) Push(ctx *Ctx, input int, d Delta, emit Emit) error {
	if input != 0 {
		return fmt.Errorf("result table: no input %d", input)
	}
	if t.replay {
		if err := t.emitAll(ctx, emit); err != nil {
			return err
		}
		t.replay = false
	}
	rec := d.Rec
	cols := rec.Columns()
	for i := 0; i < int(rec.NumRows()); i++ {
		w := int64(1)
		if d.Weights != nil {
			w = d.Weights.Value(i)
		}
		if w == 0 {
			continue
		}
		if t.upsert != nil {
			if w != 1 {
				return fmt.Errorf("result table: an upsert with weight %d", w)
			}
			t.keyCols = t.keyCols[:0]
			for _, k := range t.upsert {
				t.keyCols = append(t.keyCols, cols[k])
			}
			t.keyBuf = AppendRowKey(t.keyBuf[:0], t.keyCols, i)
			r := t.rows[string(t.keyBuf)]
			if r == nil {
				r = t.newRow(string(t.keyBuf), make([]Datum, len(cols)), 1)
				t.rows[r.key] = r
				t.order = append(t.order, r)
				t.bytes += rowBytes(r)
			} else {
				r.vals = make([]Datum, len(cols))
			}
			for c, col := range cols {
				r.vals[c] = ValueAt(col, i)
			}
			t.rowsUpdated++
			t.noteChanged(r)
			continue
		}
		t.keyBuf = AppendRowKey(t.keyBuf[:0], cols, i)
		r := t.rows[string(t.keyBuf)]
		if r == nil {
			r = t.newRow(string(t.keyBuf), make([]Datum, len(cols)), 0)
			for c, col := range cols {
				r.vals[c] = ValueAt(col, i)
			}
			t.rows[r.key] = r
			t.order = append(t.order, r)
			t.bytes += rowBytes(r)
		}
		r.n += w
		if r.n < 0 {
			return fmt.Errorf("result table: a retraction of a row the result does not hold")
		}
		if r.n == 0 {
			delete(t.rows, r.key)
			t.bytes -= rowBytes(r)
			t.deadCnt++
			t.rowsRemoved++
			t.noteRemoved(r)
		} else {
			t.rowsUpdated++
			t.noteChanged(r)
		}
	}
	if t.emit == ResultEmitChanges {
		return emit(d)
	}
	return nil
}

func (t *ResultTable) Flush(ctx *Ctx, _ watermark.Time, emit Emit) error {
	t.compact()
	if t.emit == ResultEmitTable || t.replay {
		t.replay = false
		return t.emitAll(ctx, emit)
	}
	return nil
}

func (t *ResultTable) compact() {
	if t.deadCnt <= len(t.order)/4 {
		return
	}
	live := t.order[:0]
	for _, r := range t.order {
		if t.rows[r.key] == r {
			live = append(live, r)
		}
	}
	clear(t.order[len(live):])
	t.order, t.deadCnt = live, 0
}

// emitAll emits every row held, weighted by its count (in first-insertion order).
func (t *ResultTable) emitAll(ctx *Ctx, emit Emit) error {
	b := newDeltaBuilder(ctx, t.schema)
	defer b.release()
	for _, r := range t.order {
		if t.rows[r.key] != r {
			continue
		}
		if err := b.add(r.vals, r.n, emit); err != nil {
			return err
		}
	}
	if b.n == 0 && t.emit == ResultEmitTable {
		// Complete mode: an empty table is still a table (the sink replaces its contents).
		rec := emptyRecord(ctx, t.schema)
		defer rec.Release()
		return emit(Delta{Rec: rec})
	}
	return b.flush(emit)
}

func (t *ResultTable) Close() error {
	t.rows, t.order, t.bytes = nil, nil, 0
	return nil
}

// Snapshot format "streamsql.result_table.v1": the table's columns followed by __count BIGINT,
// one row per distinct row, in first-insertion order.
const resultTableFormat = "streamsql.result_table.v1"

func (t *ResultTable) stateSchema() *arrow.Schema {
	fs := append([]arrow.Field{}, t.schema.Fields()...)
	for i := range fs {
		fs[i].Nullable = true
	}
	fs = append(fs, arrow.Field{Name: "__count", Type: Int64})
	md := arrow.NewMetadata([]string{snapMetaFormat}, []string{resultTableFormat})
	return arrow.NewSchema(fs, &md)
}

// SnapshotState returns the table as records the caller owns; call it between epochs.
func (t *ResultTable) SnapshotState(ctx *Ctx) (*arrow.Schema, []arrow.RecordBatch, error) {
	schema := t.stateSchema()
	live := make([]*resultRow, 0, len(t.rows))
	for _, r := range t.order {
		if t.rows[r.key] == r {
			live = append(live, r)
		}
	}
	recs, err := t.rowRecords(ctx, schema, live)
	if err != nil {
		return nil, nil, err
	}
	t.startTracking()
	return schema, recs, nil
}

// RestoreState loads a snapshot into this fresh table; the next Push or Flush re-emits it (see
// the type's comment).
func (t *ResultTable) RestoreState(ctx *Ctx, recs []arrow.RecordBatch) error {
	if len(t.rows) > 0 {
		return fmt.Errorf("result table: RestoreState must be called on a fresh operator")
	}
	want := t.stateSchema()
	for _, rec := range recs {
		if _, err := snapCheckSchema(want, rec.Schema(), []string{snapMetaFormat}); err != nil {
			return err
		}
		nc := t.schema.NumFields()
		cols := rec.Columns()[:nc]
		counts := rec.Column(nc).(*array.Int64)
		keyCols := cols
		if t.upsert != nil {
			keyCols = nil
			for _, k := range t.upsert {
				keyCols = append(keyCols, cols[k])
			}
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			r := t.newRow(string(AppendRowKey(nil, keyCols, i)), make([]Datum, nc), counts.Value(i))
			if r.n <= 0 || t.rows[r.key] != nil {
				return fmt.Errorf("checkpoint state is damaged: result row with count %d (or repeated)", r.n)
			}
			for c, col := range cols {
				r.vals[c] = ValueAt(col, i)
			}
			t.rows[r.key] = r
			t.order = append(t.order, r)
			t.bytes += rowBytes(r)
		}
	}
	t.replay = t.emit == ResultEmitChanges && len(t.rows) > 0
	t.startTracking()
	return nil
}

var _ Snapshotter = (*ResultTable)(nil)
