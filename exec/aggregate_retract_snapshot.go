package exec

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Checkpointing of RetractingAggregate (the Snapshotter interface).
//
// Snapshot format "streamsql.retracting_aggregate.v1": one row per live group, in creation
// order, with columns
//
//	<group columns>        the keys, as the output's group columns
//	__rows BIGINT          the group's net row weight (count(*))
//	__evt BIGINT           event time (MaxInt64 for NULL; MaxInt64 without an event-time column)
//	__last BOOLEAN         whether a row was emitted for the group and not retracted
//	__last<i>              per aggregate, the value in that row (its result type)
//	__n<i> BIGINT          per aggregate, the weight of non-NULL arguments
//	__sum_hi<i>, __sum_lo<i> BIGINT   the exact 128-bit BIGINT/DECIMAL sum (lo as its bit pattern)
//	__fsum<i> DOUBLE, __pinf<i>, __ninf<i>, __nan<i> BIGINT   the DOUBLE sum and special counts
//	__set<i> LIST<argument type>, __setn<i> LIST<BIGINT>      the multiset (min, max, DISTINCT)
//
// with schema metadata holding the format version, the aggregate list, the emission mode and the
// dropped-late counter. Snapshots are taken after Flush, so no group is pending emission.
const retractSnapshotFormat = "streamsql.retracting_aggregate.v1"

func (r *RetractingAggregate) stateSchema(dropped int64) *arrow.Schema {
	var fs []arrow.Field
	for i := range r.groupCols {
		f := r.out.Field(i)
		fs = append(fs, arrow.Field{Name: f.Name, Type: f.Type, Nullable: true})
	}
	fs = append(fs, arrow.Field{Name: "__rows", Type: Int64}, arrow.Field{Name: "__evt", Type: Int64}, arrow.Field{Name: "__last", Type: Bool})
	for i := range r.aggs {
		fs = append(fs, arrow.Field{Name: fmt.Sprintf("__last%d", i), Type: r.out.Field(len(r.groupCols) + i).Type, Nullable: true})
	}
	for i := range r.aggs {
		arg := r.argTypes[i]
		if arg == nil {
			arg = Null
		}
		fs = append(fs,
			arrow.Field{Name: fmt.Sprintf("__n%d", i), Type: Int64},
			arrow.Field{Name: fmt.Sprintf("__sum_hi%d", i), Type: Int64},
			arrow.Field{Name: fmt.Sprintf("__sum_lo%d", i), Type: Int64},
			arrow.Field{Name: fmt.Sprintf("__fsum%d", i), Type: Float64},
			arrow.Field{Name: fmt.Sprintf("__pinf%d", i), Type: Int64},
			arrow.Field{Name: fmt.Sprintf("__ninf%d", i), Type: Int64},
			arrow.Field{Name: fmt.Sprintf("__nan%d", i), Type: Int64},
			arrow.Field{Name: fmt.Sprintf("__set%d", i), Type: arrow.ListOf(arg), Nullable: true},
			arrow.Field{Name: fmt.Sprintf("__setn%d", i), Type: arrow.ListOf(Int64), Nullable: true},
		)
	}
	md := arrow.NewMetadata(
		[]string{snapMetaFormat, snapMetaAggregates, snapMetaEmit, snapMetaDropped},
		[]string{retractSnapshotFormat, aggSignature(r.in, r.aggs), r.opts.Emit.String(), strconv.FormatInt(dropped, 10)})
	return arrow.NewSchema(fs, &md)
}

// SnapshotState returns the state as records the caller owns; call it after Flush.
func (r *RetractingAggregate) SnapshotState(ctx *Ctx) (*arrow.Schema, []arrow.RecordBatch, error) {
	if len(r.changed) > 0 {
		return nil, nil, fmt.Errorf("retracting aggregate: SnapshotState called with changes not yet flushed")
	}
	schema := r.stateSchema(r.droppedLate)
	var live []*retractGroup
	for _, g := range r.order {
		if !g.dead {
			live = append(live, g)
		}
	}
	var recs []arrow.RecordBatch
	for lo := 0; lo < len(live) || lo == 0; lo += aggSnapshotChunk {
		if err := ctx.Err(); err != nil {
			releaseRecords(recs)
			return nil, nil, err
		}
		rec, err := r.snapshotChunk(ctx, schema, live[lo:min(len(live), lo+aggSnapshotChunk)])
		if err != nil {
			releaseRecords(recs)
			return nil, nil, err
		}
		recs = append(recs, rec)
	}
	r.forgetSnapChanges()
	r.snapTracking = true
	return schema, recs, nil
}

// Incremental checkpoints (IncrementalSnapshotter): the rows of the groups changed since the
// last snapshot, in creation order, and the keys of the groups forgotten since then (a key
// forgotten and created again is in both).

// StateKeyColumns is the number of group columns.
func (r *RetractingAggregate) StateKeyColumns() int { return len(r.groupCols) }

// markSnapDirty records the groups changed in the epoch; Flush calls it before it clears them.
func (r *RetractingAggregate) markSnapDirty() {
	if !r.snapTracking {
		return
	}
	for _, g := range r.changed {
		if !g.snapDirty {
			g.snapDirty = true
			r.snapDirty = append(r.snapDirty, g)
		}
	}
}

func (r *RetractingAggregate) forgetSnapChanges() {
	for _, g := range r.snapDirty {
		g.snapDirty = false
	}
	r.snapDirty, r.snapGone = r.snapDirty[:0], nil
}

// SnapshotChanges returns the changed groups' rows and the forgotten groups' keys since the
// last snapshot; call it after Flush. The records are owned by the caller.
func (r *RetractingAggregate) SnapshotChanges(ctx *Ctx) (*arrow.Schema, []arrow.RecordBatch, []arrow.RecordBatch, error) {
	if len(r.changed) > 0 {
		return nil, nil, nil, fmt.Errorf("retracting aggregate: SnapshotChanges called with changes not yet flushed")
	}
	schema := r.stateSchema(r.droppedLate)
	dirty := r.snapDirty
	if !r.snapTracking {
		// The first snapshot call: nothing was written before, so every live group is new.
		r.snapTracking = true
		dirty = r.order
	}
	var live []*retractGroup
	for _, g := range dirty {
		if !g.dead {
			live = append(live, g)
		}
	}
	sort.Slice(live, func(i, j int) bool { return live[i].seq < live[j].seq })
	var ups []arrow.RecordBatch
	for lo := 0; lo < len(live); lo += aggSnapshotChunk {
		rec, err := r.snapshotChunk(ctx, schema, live[lo:min(len(live), lo+aggSnapshotChunk)])
		if err != nil {
			releaseRecords(ups)
			return nil, nil, nil, err
		}
		ups = append(ups, rec)
	}
	var gone []arrow.RecordBatch
	if len(r.snapGone) > 0 {
		keySchema := arrow.NewSchema(schema.Fields()[:len(r.groupCols)], nil)
		b := array.NewRecordBuilder(ctx.Mem, keySchema)
		for _, key := range r.snapGone {
			for c, v := range key {
				if err := AppendDatum(b.Field(c), v); err != nil {
					b.Release()
					releaseRecords(ups)
					return nil, nil, nil, err
				}
			}
		}
		gone = append(gone, b.NewRecordBatch())
		b.Release()
	}
	r.forgetSnapChanges()
	return schema, ups, gone, nil
}

var _ IncrementalSnapshotter = (*RetractingAggregate)(nil)

func (r *RetractingAggregate) snapshotChunk(ctx *Ctx, schema *arrow.Schema, groups []*retractGroup) (arrow.RecordBatch, error) {
	b := array.NewRecordBuilder(ctx.Mem, schema)
	defer b.Release()
	nk, na := len(r.groupCols), len(r.aggs)
	for _, g := range groups {
		col := 0
		for _, v := range g.keyVals {
			if err := AppendDatum(b.Field(col), v); err != nil {
				return nil, err
			}
			col++
		}
		b.Field(col).(*array.Int64Builder).Append(g.rows)
		b.Field(col + 1).(*array.Int64Builder).Append(g.evt)
		b.Field(col + 2).(*array.BooleanBuilder).Append(g.last != nil)
		col += 3
		for i := 0; i < na; i++ {
			var v Datum
			if g.last != nil {
				v = g.last[nk+i]
			}
			if err := AppendDatum(b.Field(col), v); err != nil {
				return nil, err
			}
			col++
		}
		for i := range g.accs {
			a := &g.accs[i]
			b.Field(col).(*array.Int64Builder).Append(a.n)
			b.Field(col + 1).(*array.Int64Builder).Append(a.isum.hi)
			b.Field(col + 2).(*array.Int64Builder).Append(int64(a.isum.lo))
			b.Field(col + 3).(*array.Float64Builder).Append(a.fsum)
			b.Field(col + 4).(*array.Int64Builder).Append(a.pinf)
			b.Field(col + 5).(*array.Int64Builder).Append(a.ninf)
			b.Field(col + 6).(*array.Int64Builder).Append(a.nan)
			vals, counts := b.Field(col+7).(*array.ListBuilder), b.Field(col+8).(*array.ListBuilder)
			vals.Append(true)
			counts.Append(true)
			for _, e := range a.set {
				if err := AppendDatum(vals.ValueBuilder(), e.v); err != nil {
					return nil, err
				}
				counts.ValueBuilder().(*array.Int64Builder).Append(e.n)
			}
			col += 9
		}
	}
	return b.NewRecordBatch(), nil
}

// RestoreState loads a snapshot of an operator of the same query into this fresh operator. A
// snapshot of another format, aggregate list or emission mode is refused with an error starting
// "checkpoint state does not match the query".
func (r *RetractingAggregate) RestoreState(ctx *Ctx, recs []arrow.RecordBatch) error {
	r.snapTracking = true
	if r.live > 0 || len(r.order) > 0 {
		return fmt.Errorf("retracting aggregate: RestoreState must be called on a fresh operator")
	}
	if len(recs) == 0 {
		return errStateMismatch("the aggregate's snapshot has no records (expected format %s)", retractSnapshotFormat)
	}
	want := r.stateSchema(0)
	meta := []string{snapMetaFormat, snapMetaAggregates, snapMetaEmit}
	dropped, err := snapCheckSchema(want, recs[0].Schema(), meta)
	if err != nil {
		return err
	}
	nk, na := len(r.groupCols), len(r.aggs)
	for _, rec := range recs {
		if _, err := snapCheckSchema(want, rec.Schema(), meta); err != nil {
			return err
		}
		keyCols := rec.Columns()[:nk]
		rows := int(rec.NumRows())
		r.ids = aggGrow(r.ids, rows)
		r.table.assign(keyCols, rows, r.ids[:rows])
		r.byID = aggGrow(r.byID, r.table.numGroups())
		for row := 0; row < rows; row++ {
			g := &retractGroup{gid: r.ids[row], keyVals: make([]Datum, nk), accs: make([]retractAcc, na), seq: r.seq}
			r.seq++
			for k, c := range keyCols {
				g.keyVals[k] = ValueAt(c, row)
			}
			if r.byID[g.gid] != nil {
				return fmt.Errorf("checkpoint state is damaged: a group key repeats")
			}
			col := nk
			g.rows = rec.Column(col).(*array.Int64).Value(row)
			g.evt = rec.Column(col + 1).(*array.Int64).Value(row)
			hasLast := rec.Column(col + 2).(*array.Boolean).Value(row)
			if g.rows < 0 {
				return fmt.Errorf("checkpoint state is damaged: a group has %d rows", g.rows)
			}
			col += 3
			if hasLast {
				g.last = append([]Datum{}, g.keyVals...)
			}
			for i := 0; i < na; i++ {
				if hasLast {
					g.last = append(g.last, ValueAt(rec.Column(col), row))
				}
				col++
			}
			for i := range g.accs {
				a := &g.accs[i]
				a.n = rec.Column(col).(*array.Int64).Value(row)
				a.isum = aggI128{hi: rec.Column(col + 1).(*array.Int64).Value(row), lo: uint64(rec.Column(col + 2).(*array.Int64).Value(row))}
				a.fsum = rec.Column(col + 3).(*array.Float64).Value(row)
				a.pinf = rec.Column(col + 4).(*array.Int64).Value(row)
				a.ninf = rec.Column(col + 5).(*array.Int64).Value(row)
				a.nan = rec.Column(col + 6).(*array.Int64).Value(row)
				vals, counts := rec.Column(col+7).(*array.List), rec.Column(col+8).(*array.List)
				vo, ve := vals.ValueOffsets(row)
				so, se := counts.ValueOffsets(row)
				if ve-vo != se-so {
					return fmt.Errorf("checkpoint state is damaged: a multiset has %d values and %d counts", ve-vo, se-so)
				}
				if n := ve - vo; n > 0 {
					a.set = make(map[any]*retractValue, n)
					vv, cv := vals.ListValues(), counts.ListValues().(*array.Int64)
					for j := int64(0); j < n; j++ {
						v := ValueAt(vv, int(vo+j))
						c := cv.Value(int(so + j))
						if v == nil || c <= 0 {
							return fmt.Errorf("checkpoint state is damaged: a multiset entry (%v, %d)", v, c)
						}
						a.set[setKey(v)] = &retractValue{v: v, n: c}
					}
				}
				col += 9
			}
			r.byID[g.gid] = g
			r.live++
			r.order = append(r.order, g)
			r.stateBytes += retractGroupBytes(g)
		}
	}
	r.droppedLate = dropped
	return nil
}

var _ Snapshotter = (*RetractingAggregate)(nil)
