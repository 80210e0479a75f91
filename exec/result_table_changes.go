package exec

import (
	"cmp"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Incremental checkpoints of ResultTable (IncrementalSnapshotter), so a materialized view's
// checkpoint follows the rows that changed rather than the size of its result.
//
// The key of a state row is what identifies a result row: the whole row for a table of changes,
// the upsert key for a table of upserts. The state layer merges changelogs by the state's leading
// columns, and the snapshot format (the table's columns, then __count) is kept so that checkpoints
// written before changelogs still restore; so a table of upserts checkpoints incrementally only
// when its key columns lead its schema (GROUP BY keys selected first, the usual shape). Other
// tables keep writing whole snapshots (Checkpointer says which).

// resultTableChanges is a ResultTable checkpointed through changelogs.
type resultTableChanges struct{ *ResultTable }

// Checkpointer returns the operator a query runs and checkpoints for this table: the table itself
// (whole snapshots) or, when its key leads its columns, the same table seen as an
// IncrementalSnapshotter. Both share the table's state; use one of them for the query's life.
// The result is always a Snapshotter.
func (t *ResultTable) Checkpointer() Operator {
	for i, k := range t.upsert {
		if k != i {
			return t
		}
	}
	return resultTableChanges{t}
}

// StateKeyColumns is the number of leading state columns that identify a row.
func (c resultTableChanges) StateKeyColumns() int {
	if c.upsert != nil {
		return len(c.upsert)
	}
	return c.schema.NumFields()
}

// noteChanged records a row whose count or values changed; Push calls it.
func (t *ResultTable) noteChanged(r *resultRow) {
	if t.snapTracking {
		t.snapDirty[r.key] = struct{}{}
	}
}

// noteRemoved records a row whose count went to zero; its values stay readable in r.
func (t *ResultTable) noteRemoved(r *resultRow) {
	if t.snapTracking {
		t.snapGone = append(t.snapGone, r)
	}
}

// startTracking begins (or restarts, after a whole snapshot) the record of changes.
func (t *ResultTable) startTracking() {
	t.snapTracking = true
	t.snapDirty = map[string]struct{}{}
	t.snapGone = nil
}

// SnapshotChanges returns the rows changed since the last snapshot call (in first-insertion
// order, with their counts) and the keys of the rows removed since then; call it between epochs.
// The caller owns the records.
func (c resultTableChanges) SnapshotChanges(ctx *Ctx) (*arrow.Schema, []arrow.RecordBatch, []arrow.RecordBatch, error) {
	t := c.ResultTable
	schema := t.stateSchema()
	var rows []*resultRow
	if !t.snapTracking {
		// The first snapshot call: nothing was written before, so every live row is new.
		for _, r := range t.order {
			if t.rows[r.key] == r {
				rows = append(rows, r)
			}
		}
	} else {
		for key := range t.snapDirty {
			if r := t.rows[key]; r != nil {
				rows = append(rows, r)
			}
		}
		slices.SortFunc(rows, func(a, b *resultRow) int { return cmp.Compare(a.seq, b.seq) })
	}
	gone := t.snapGone
	t.startTracking()
	var ups []arrow.RecordBatch
	if len(rows) > 0 {
		var err error
		if ups, err = t.rowRecords(ctx, schema, rows); err != nil {
			return nil, nil, nil, err
		}
	}
	var dels []arrow.RecordBatch
	if len(gone) > 0 {
		keySchema := arrow.NewSchema(schema.Fields()[:c.StateKeyColumns()], nil)
		b := array.NewRecordBuilder(ctx.Mem, keySchema)
		defer b.Release()
		for _, r := range gone {
			for i := 0; i < keySchema.NumFields(); i++ {
				col := i
				if t.upsert != nil {
					col = t.upsert[i]
				}
				if err := AppendDatum(b.Field(i), r.vals[col]); err != nil {
					releaseRecords(ups)
					return nil, nil, nil, err
				}
			}
		}
		dels = append(dels, b.NewRecordBatch())
	}
	return schema, ups, dels, nil
}

// rowRecords writes rows in the snapshot format, in records of at most aggSnapshotChunk rows (at
// least one record, empty when rows is).
func (t *ResultTable) rowRecords(ctx *Ctx, schema *arrow.Schema, rows []*resultRow) ([]arrow.RecordBatch, error) {
	b := array.NewRecordBuilder(ctx.Mem, schema)
	defer b.Release()
	nc := t.schema.NumFields()
	var recs []arrow.RecordBatch
	n := 0
	for _, r := range rows {
		for c, v := range r.vals {
			if err := AppendDatum(b.Field(c), v); err != nil {
				releaseRecords(recs)
				return nil, err
			}
		}
		b.Field(nc).(*array.Int64Builder).Append(r.n)
		if n++; n == aggSnapshotChunk {
			recs, n = append(recs, b.NewRecordBatch()), 0
		}
	}
	if n > 0 || len(recs) == 0 {
		recs = append(recs, b.NewRecordBatch())
	}
	return recs, nil
}

var _ IncrementalSnapshotter = resultTableChanges{}
