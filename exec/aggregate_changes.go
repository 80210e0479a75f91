package exec

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Incremental checkpoints and state TTL of the streaming HashAggregate (IncrementalSnapshotter).
//
// A streaming aggregate marks every group a Push touches (dirty, compacted with the other
// per-group arrays) and, once a snapshot call showed that the query checkpoints, keeps the keys
// of the groups it removes (evicted by the watermark, expired by the TTL) as records of key
// columns until the next snapshot. SnapshotChanges
// reports the dirty groups' rows, in the snapshot format of aggregate_snapshot.go, and those
// keys; SnapshotState (a full snapshot) resets both too.
//
// TTL (AggStreamOptions.TTL, Spark's processing-time state TTL): each group records the
// processing time (Ctx.Now of the epoch) of its last update; Flush first removes the groups not
// updated for the TTL, without emitting anything for them (no retraction: downstream keeps the
// last row it got), and counts them (ExpiredKeys). A key seen again later starts a new group
// from zero. The last-update time is part of the snapshot (column __touched) so expiry is the
// same after a restart.

// StateKeyColumns is the number of group columns: the key of the state's rows.
func (h *HashAggregate) StateKeyColumns() int { return len(h.groupCols) }

// ExpiredKeys is the number of groups removed so far by the TTL.
func (h *HashAggregate) ExpiredKeys() int64 { return h.expired }

// markDirty records the groups of a pushed batch (one id per row) as changed, and their update
// time for the TTL.
func (h *HashAggregate) markDirty(ctx *Ctx, ids []uint32) {
	if !h.track {
		return
	}
	dirty := h.dirty
	for _, g := range ids {
		dirty[g] = true
	}
	if h.opts.TTL > 0 {
		now := ctx.Now.UnixMicro()
		touched := h.touched
		for _, g := range ids {
			touched[g] = now
		}
	}
}

// expire removes the groups whose last update is at least the TTL before ctx.Now.
func (h *HashAggregate) expire(ctx *Ctx) {
	if h.opts.TTL <= 0 {
		return
	}
	limit := ctx.Now.Add(-h.opts.TTL).UnixMicro()
	n := h.removeGroups(ctx.Mem, func(g uint32) bool { return h.touched[g] <= limit })
	h.expired += int64(n)
}

// removeGroups drops every group for which gone is true, compacting the state (ids stay in
// their old order), keeps their keys for SnapshotChanges and returns how many went.
func (h *HashAggregate) removeGroups(mem memory.Allocator, gone func(g uint32) bool) int {
	if _, global := h.table.(*globalTable); global {
		return 0 // the one group of an aggregate without GROUP BY always exists
	}
	ng := h.table.numGroups()
	keep := make([]uint32, 0, ng)
	var removed []uint32
	for g := 0; g < ng; g++ {
		if gone(uint32(g)) {
			removed = append(removed, uint32(g))
		} else {
			keep = append(keep, uint32(g))
		}
	}
	if len(removed) == 0 {
		return 0
	}
	h.rowsRemoved += int64(len(removed))
	if h.track && h.snapshotting {
		cols := h.table.keyColumns(mem, removed)
		rec := array.NewRecordBatch(h.keySchema(), cols, int64(len(removed)))
		for _, c := range cols {
			c.Release()
		}
		h.gone = append(h.gone, rec)
	}
	h.keepGroups(keep, ng)
	if cap(h.gids) > 2*len(keep)+aggMaxBatchRows {
		h.gids = nil
	}
	return len(removed)
}

// keySchema is the schema of the deleted-keys records: the state's key columns.
func (h *HashAggregate) keySchema() *arrow.Schema {
	fs := make([]arrow.Field, len(h.groupCols))
	for i := range fs {
		f := h.out.Field(i)
		fs[i] = arrow.Field{Name: f.Name, Type: f.Type, Nullable: true}
	}
	return arrow.NewSchema(fs, nil)
}

// forgetChanges clears what SnapshotChanges would report.
func (h *HashAggregate) forgetChanges() {
	clear(h.dirty)
	releaseRecords(h.gone)
	h.gone = nil
}

// SnapshotChanges returns the rows of the groups changed since the previous snapshot and the
// keys of the groups removed since then (see IncrementalSnapshotter); call it between epochs,
// after Flush. The records are owned by the caller.
func (h *HashAggregate) SnapshotChanges(ctx *Ctx) (*arrow.Schema, []arrow.RecordBatch, []arrow.RecordBatch, error) {
	if !h.track {
		return nil, nil, nil, fmt.Errorf("hash aggregate: SnapshotChanges needs a streaming aggregate")
	}
	schema, err := h.stateSchema(h.droppedLate)
	if err != nil {
		return nil, nil, nil, err
	}
	// Before the first snapshot call nothing was written: every group created since is dirty,
	// and no removed key needs a tombstone.
	h.snapshotting = true
	var recs []arrow.RecordBatch
	gids := h.gids[:0]
	flush := func() {
		if len(gids) > 0 {
			recs = append(recs, h.snapshotGroups(ctx.Mem, schema, gids))
			gids = gids[:0]
		}
	}
	for g, d := range h.dirty[:h.table.numGroups()] {
		if d {
			gids = append(gids, uint32(g))
			if len(gids) == aggSnapshotChunk {
				flush()
			}
		}
	}
	flush()
	h.gids = gids
	gone := h.gone
	h.gone = nil
	clear(h.dirty)
	return schema, recs, gone, nil
}

var _ IncrementalSnapshotter = (*HashAggregate)(nil)

// keepGroups compacts the aggregate's state to the groups in keep (ascending ids of the ng
// groups): the hash table, the accumulators and every per-group array; group keep[i] becomes i.
func (h *HashAggregate) keepGroups(keep []uint32, ng int) {
	remap := make([]int32, ng)
	for g := range remap {
		remap[g] = -1
	}
	for i, g := range keep {
		remap[g] = int32(i)
	}
	h.table.compact(keep, remap)
	h.rows = aggCompact(h.rows, keep)
	if h.evt != nil {
		h.evt = aggCompact(h.evt, keep)
	}
	if h.changed != nil {
		h.changed = aggCompact(h.changed, keep)
	}
	if h.dirty != nil {
		h.dirty = aggCompact(h.dirty, keep)
	}
	if h.touched != nil {
		h.touched = aggCompact(h.touched, keep)
	}
	for _, a := range h.accs {
		a.compact(keep, remap)
	}
}
