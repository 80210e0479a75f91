package exec

import (
	"fmt"
	"math"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"

	"github.com/streamsql/streamsql/watermark"
)

// Streaming emission for HashAggregate (Spark Structured Streaming's output modes).
//
// The state is the batch operator's (dense group ids, per-group arrays) plus, with an event-time
// group column, each group's event time, and in update mode a "changed since the last Flush"
// flag per group. Eviction compacts: the surviving groups are renumbered 0..k-1 in their old
// order, every per-group array is compacted in place (and shrunk when it would be over half
// empty), and the hash tables are rebuilt for the survivors. So group ids are stable between
// two evictions, not forever, and memory follows the live groups however long the query runs.
// Compaction costs O(groups) per Flush that evicts anything.

// AggEmit selects which groups HashAggregate.Flush emits.
type AggEmit int

const (
	// AggEmitAll emits every group at each Flush: batch queries and complete mode.
	AggEmitAll AggEmit = iota
	// AggEmitChanged emits the groups whose values changed since the previous Flush: update mode.
	AggEmitChanged
	// AggEmitClosed emits each group once, at the first Flush whose watermark is at or past the
	// group's event time, then evicts it: append mode.
	AggEmitClosed
)

func (e AggEmit) String() string {
	switch e {
	case AggEmitAll:
		return "all"
	case AggEmitChanged:
		return "changed"
	case AggEmitClosed:
		return "closed"
	}
	return fmt.Sprintf("AggEmit(%d)", int(e))
}

// AggStreamOptions configures a streaming hash aggregate.
type AggStreamOptions struct {
	Emit AggEmit
	// EventTimeCol is the index (within the group columns, i.e. 0..len(groupCols)-1) of the
	// TIMESTAMP group column holding the window end; -1 for none. Required (>= 0) for AggEmitClosed.
	EventTimeCol int
	// TTL, when positive, removes at Flush the groups not updated for that long (processing
	// time: Ctx.Now), without emitting anything for them (aggregate_changes.go).
	TTL time.Duration
}

// NewStreamingHashAggregate returns a hash aggregate (see NewHashAggregate for schemas) that keeps
// its state across epochs and emits per opts.Emit at each Flush.
//
// With opts.EventTimeCol >= 0 (Spark's semantics):
//   - Push drops the input rows whose event-time group value is at or below ctx.Watermark (late
//     data for a closed window) and counts them (DroppedLate). NULL event times are never late.
//   - Flush(wm), in the modes other than AggEmitAll, evicts after emitting every group whose
//     event time is at or below wm; its state is released. A NULL event time is closed only by
//     wm = watermark.MaxTime (end of input), which closes every group.
//
// Accumulators are exact across epochs (a group updated in epochs 1 and 3 shows the total), and
// DISTINCT aggregates keep their per-group value sets until the group is evicted.
//
// The operator tracks which groups changed for incremental checkpoints (IncrementalSnapshotter)
// and, with opts.TTL, expires groups not updated for that long (aggregate_changes.go).
func NewStreamingHashAggregate(in *arrow.Schema, groupCols []int, aggs []AggSpec, out *arrow.Schema, opts AggStreamOptions) (*HashAggregate, error) {
	h, err := newHashAggregate(in, groupCols, aggs, out, opts)
	if err != nil {
		return nil, err
	}
	h.track = true
	h.dirty = aggGrow(h.dirty, len(h.rows))
	return h, nil
}

// checkStreamOptions validates h.opts against the group columns; called by the constructor.
func (h *HashAggregate) checkStreamOptions() error {
	o := h.opts
	switch o.Emit {
	case AggEmitAll, AggEmitChanged, AggEmitClosed:
	default:
		return fmt.Errorf("hash aggregate: unknown emission mode %d", int(o.Emit))
	}
	if o.EventTimeCol < -1 || o.EventTimeCol >= len(h.groupCols) {
		return fmt.Errorf("hash aggregate: event-time column #%d is not one of the %d group columns (use -1 for none)",
			o.EventTimeCol, len(h.groupCols))
	}
	if o.EventTimeCol >= 0 {
		f := h.in.Field(h.groupCols[o.EventTimeCol])
		if f.Type.ID() != arrow.TIMESTAMP {
			return fmt.Errorf("hash aggregate: event-time group column %q has type %s, want TIMESTAMP", f.Name, TypeName(f.Type))
		}
	}
	if o.TTL < 0 {
		return fmt.Errorf("hash aggregate: negative state TTL %s", o.TTL)
	}
	if o.Emit == AggEmitClosed && o.EventTimeCol < 0 {
		return fmt.Errorf("hash aggregate: append mode (emit closed groups) needs an event-time group column")
	}
	return nil
}

// DroppedLate is the number of input rows dropped so far because their event time was at or below
// the watermark in force when they were pushed.
func (h *HashAggregate) DroppedLate() int64 { return h.droppedLate }

// dropLate returns rec without its late rows (rows whose event-time value is at or below
// ctx.Watermark). When nothing is late it returns rec itself; otherwise a new record the caller
// releases.
func (h *HashAggregate) dropLate(ctx *Ctx, rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	wm := int64(ctx.Watermark)
	if ctx.Watermark == watermark.MinTime {
		return rec, nil
	}
	col := rec.Column(h.groupCols[h.opts.EventTimeCol])
	ts := fixedValues[int64](col)
	// Performance: a branch-free minimum settles the common case (nothing late) without the
	// per-row validity test below.
	if len(ts) > 0 {
		lo := ts[0]
		for _, v := range ts {
			lo = min(lo, v)
		}
		if lo > wm {
			return rec, nil
		}
	}
	vb, off := aggValidity(col)
	late := 0
	for i, v := range ts {
		if v <= wm && (vb == nil || bitutil.BitIsSet(vb, off+i)) {
			late++
		}
	}
	if late == 0 {
		return rec, nil
	}
	h.droppedLate += int64(late)
	idx := make([]int64, 0, len(ts)-late)
	for i, v := range ts {
		if v > wm || (vb != nil && !bitutil.BitIsSet(vb, off+i)) {
			idx = append(idx, int64(i))
		}
	}
	ia := indexArray(ctx.Mem, idx)
	defer ia.Release()
	kept, err := TakeRecord(ctx, rec, rec.Schema(), ia)
	if err != nil {
		return nil, fmt.Errorf("hash aggregate: dropping late rows: %w", err)
	}
	return kept, nil
}

// trackGroups records, after the groups of a pushed batch are assigned (ids, one per row of
// rec), the event time of groups created by it (ids >= oldGroups) and the changed flags.
func (h *HashAggregate) trackGroups(rec arrow.RecordBatch, ids []uint32, oldGroups int) {
	if h.opts.EventTimeCol >= 0 && len(h.evt) > oldGroups {
		col := rec.Column(h.groupCols[h.opts.EventTimeCol])
		ts := fixedValues[int64](col)
		vb, off := aggValidity(col)
		evt := h.evt
		for i, g := range ids {
			if int(g) >= oldGroups {
				if vb != nil && !bitutil.BitIsSet(vb, off+i) {
					evt[g] = math.MaxInt64
				} else {
					evt[g] = ts[i]
				}
			}
		}
	}
	if h.opts.Emit == AggEmitChanged {
		changed := h.changed
		for _, g := range ids {
			changed[g] = true
		}
	}
}

// closed reports whether group g's event time is at or below wm (wm = MaxTime closes everything).
func (h *HashAggregate) closed(g uint32, wm watermark.Time) bool {
	return wm == watermark.MaxTime || h.evt[g] <= int64(wm)
}

// flushStreaming is Flush for AggEmitChanged and AggEmitClosed.
func (h *HashAggregate) flushStreaming(ctx *Ctx, wm watermark.Time, emit Emit) error {
	ng := h.table.numGroups()
	h.gids = h.gids[:0]
	for g := 0; g < ng; g++ {
		var sel bool
		if h.opts.Emit == AggEmitChanged {
			sel = h.changed[g]
		} else {
			sel = h.closed(uint32(g), wm)
		}
		if sel {
			h.gids = append(h.gids, uint32(g))
		}
	}
	sel := h.gids
	for start := 0; start < len(sel); start += aggMaxBatchRows {
		if err := h.emitGroups(ctx, sel[start:min(len(sel), start+aggMaxBatchRows)], emit); err != nil {
			return err
		}
	}
	if h.opts.Emit == AggEmitChanged {
		clear(h.changed)
	}
	if h.opts.EventTimeCol >= 0 {
		h.removeGroups(ctx.Mem, func(g uint32) bool { return h.closed(g, wm) })
	}
	return nil
}
