package exec

import (
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
)

// Checkpointing of SessionAggregate (the Snapshotter interface).
//
// Snapshot format "streamsql.session.v1": the buffered events themselves (the operator keeps
// events, not partial aggregates, because a late event may still merge two open sessions), as
// rows of the input schema followed by
//
//	__event BOOLEAN   true for an event row; false for a key without buffered events, whose row
//	                  holds the key columns and NULL elsewhere
//
// ordered by key id, each key's events in their buffered order. Keeping keys without events
// preserves the key table's id order, so a restored operator emits sessions in the same order as
// the one snapshotted. Schema metadata: the format version, the aggregate list, the emission mode,
// the gap and the droppedLate counter.
//
// Restore re-creates the keys in order (checking the ids come back 0..n-1), retains the snapshot
// record as the holder of the restored events (released once they are all evicted, like a pushed
// record) and marks each key sorted when its events are in time order. Ties between events with the
// same time are ordered by (record slot, row) at Flush; after a restore the restored events keep
// their relative order, but their slot relative to records pushed later may differ from the
// original operator's, so an order-sensitive aggregate (a DOUBLE sum of three or more values with
// equal event times spread over old and new records) may differ in its last bits.

const sessSnapshotFormat = "streamsql.session.v1"

const snapMetaGap = "streamsql.gap_us"

// stateSchema is the snapshot schema, with dropped as the droppedLate metadata.
func (s *SessionAggregate) stateSchema(dropped int64) *arrow.Schema {
	fs := make([]arrow.Field, 0, s.in.NumFields()+1)
	for _, f := range s.in.Fields() {
		fs = append(fs, arrow.Field{Name: f.Name, Type: f.Type, Nullable: true})
	}
	fs = append(fs, arrow.Field{Name: "__event", Type: Bool})
	md := arrow.NewMetadata(
		[]string{snapMetaFormat, snapMetaAggregates, snapMetaEmit, snapMetaGap, snapMetaDropped},
		[]string{sessSnapshotFormat, aggSignature(s.in, s.aggs), s.emit.String(), strconv.FormatInt(s.gap, 10), strconv.FormatInt(dropped, 10)})
	return arrow.NewSchema(fs, &md)
}

// SnapshotState returns the buffered events and keys (see the format above) as one record owned
// by the caller; call it between epochs, after Flush. The operator is unchanged.
func (s *SessionAggregate) SnapshotState(ctx *Ctx) (*arrow.Schema, []arrow.RecordBatch, error) {
	schema := s.stateSchema(s.dropped)
	nin := s.in.NumFields()
	// Output position of every event, gathered per stored record; keys without events separately.
	type gather struct {
		idx []int64
		pos []int
	}
	per := map[int32]*gather{}
	var order []int32
	var emptyGids []uint32
	var emptyPos []int
	pos := 0
	for g, ev := range s.events {
		if len(ev) == 0 {
			emptyGids = append(emptyGids, uint32(g))
			emptyPos = append(emptyPos, pos)
			pos++
			continue
		}
		for _, e := range ev {
			b := per[e.rec]
			if b == nil {
				b = &gather{}
				per[e.rec] = b
				order = append(order, e.rec)
			}
			b.idx = append(b.idx, int64(e.row))
			b.pos = append(b.pos, pos)
			pos++
		}
	}
	for g := len(s.events); g < s.table.numGroups(); g++ { // keys of a batch without kept rows
		emptyGids = append(emptyGids, uint32(g))
		emptyPos = append(emptyPos, pos)
		pos++
	}
	total := pos
	ectx := compute.WithAllocator(windowContext(ctx), ctx.Mem)
	// parts[c] are the pieces of column c in gathering order; perm maps output position to the
	// row of the concatenated pieces.
	parts := make([][]arrow.Array, nin)
	defer func() {
		for _, ps := range parts {
			for _, p := range ps {
				p.Release()
			}
		}
	}()
	perm := make([]int64, total)
	isEvent := make([]bool, total)
	row := int64(0)
	for _, r := range order {
		b := per[r]
		ia := indexArray(ctx.Mem, b.idx)
		rec := s.recs[r].rec
		for c := 0; c < nin; c++ {
			col, err := compute.TakeArray(ectx, rec.Column(c), ia)
			if err != nil {
				ia.Release()
				return nil, nil, fmt.Errorf("session aggregate: snapshot: %w", err)
			}
			parts[c] = append(parts[c], col)
		}
		ia.Release()
		for k, p := range b.pos {
			perm[p] = row + int64(k)
			isEvent[p] = true
		}
		row += int64(len(b.idx))
	}
	{
		n := len(emptyGids)
		keys := s.table.keyColumns(ctx.Mem, emptyGids)
		placed := make([]bool, nin)
		for i, c := range s.keyCols {
			if !placed[c] {
				parts[c] = append(parts[c], keys[i])
				placed[c] = true
			} else {
				keys[i].Release()
			}
		}
		for c := 0; c < nin; c++ {
			if !placed[c] {
				parts[c] = append(parts[c], array.MakeArrayOfNull(ctx.Mem, s.in.Field(c).Type, n))
			}
		}
		for k, p := range emptyPos {
			perm[p] = row + int64(k)
		}
	}
	pa := indexArray(ctx.Mem, perm)
	defer pa.Release()
	cols := make([]arrow.Array, 0, nin+1)
	release := func() {
		for _, c := range cols {
			c.Release()
		}
	}
	for c := 0; c < nin; c++ {
		whole, err := array.Concatenate(parts[c], ctx.Mem)
		if err != nil {
			release()
			return nil, nil, fmt.Errorf("session aggregate: snapshot: %w", err)
		}
		col, err := compute.TakeArray(ectx, whole, pa)
		whole.Release()
		if err != nil {
			release()
			return nil, nil, fmt.Errorf("session aggregate: snapshot: %w", err)
		}
		cols = append(cols, col)
	}
	cols = append(cols, aggBoolArray(ctx.Mem, total, func(int) bool { return true }, func(k int) bool { return isEvent[k] }))
	rec := array.NewRecordBatch(schema, cols, int64(total))
	release()
	return schema, []arrow.RecordBatch{rec}, nil
}

// RestoreState loads a snapshot written by SnapshotState of an operator of the same query into
// this fresh operator (before its first Push). It Retains the records that hold events. A snapshot
// of another format, aggregate list, emission mode, gap or input layout is refused with an error
// starting "checkpoint state does not match the query"; on any error the operator must only be
// closed.
func (s *SessionAggregate) RestoreState(ctx *Ctx, recs []arrow.RecordBatch) error {
	if len(s.events) > 0 || len(s.recs) > 0 {
		return fmt.Errorf("session aggregate: RestoreState must be called on a fresh operator, before the first Push")
	}
	if len(recs) == 0 {
		return errStateMismatch("the session aggregate's snapshot has no records (expected format %s)", sessSnapshotFormat)
	}
	want := s.stateSchema(0)
	keys := []string{snapMetaFormat, snapMetaAggregates, snapMetaEmit, snapMetaGap}
	dropped, err := snapCheckSchema(want, recs[0].Schema(), keys)
	if err != nil {
		return err
	}
	nin := s.in.NumFields()
	for _, rec := range recs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := snapCheckSchema(want, rec.Schema(), keys); err != nil {
			return err
		}
		if err := s.restoreRecord(rec, nin); err != nil {
			return err
		}
	}
	s.dropped = dropped
	return nil
}

// restoreRecord re-creates the keys and events of one snapshot record.
func (s *SessionAggregate) restoreRecord(rec arrow.RecordBatch, nin int) error {
	n := int(rec.NumRows())
	if n == 0 {
		return nil
	}
	isEvent := rec.Column(nin).(*array.Boolean)
	if isEvent.NullN() > 0 {
		return fmt.Errorf("checkpoint state is damaged: __event holds NULL")
	}
	tsCol := rec.Column(s.tsCol)
	ts := fixedValues[int64](tsCol)
	if cap(s.ids) < n {
		s.ids = make([]uint32, n)
	}
	ids := s.ids[:n]
	for i, c := range s.keyCols {
		s.keyBuf[i] = rec.Column(c)
	}
	// Keys of earlier records are events[0:before]; the global table's one key is id 0.
	before := len(s.events)
	s.table.assign(s.keyBuf, n, ids)
	clear(s.keyBuf)
	// Keys must come in id order: each row's id is the previous row's or the next new one.
	next := uint32(before)
	kept := 0
	for i, g := range ids {
		switch {
		case i > 0 && g == ids[i-1]:
		case g == next:
			next++
		default:
			return fmt.Errorf("checkpoint state is damaged: row %d of the snapshot has the key of group %d, want group %d", i, g, next)
		}
		if isEvent.Value(i) {
			if tsCol.IsNull(i) {
				return fmt.Errorf("checkpoint state is damaged: event row %d has no event time", i)
			}
			kept++
		}
	}
	ng := s.table.numGroups()
	s.events = aggGrow(s.events, ng)
	for g := len(s.sorted); g < ng; g++ {
		s.sorted = append(s.sorted, true)
	}
	if kept == 0 {
		return nil
	}
	slot := s.storeRecord(rec, kept)
	for i, g := range ids {
		if !isEvent.Value(i) {
			continue
		}
		ev := s.events[g]
		if len(ev) > 0 && ts[i] < ev[len(ev)-1].ts {
			s.sorted[g] = false
		}
		s.events[g] = append(ev, sessEvent{ts: ts[i], rec: slot, row: int32(i)})
	}
	s.live += int64(kept)
	return nil
}
