package exec

import (
	"context"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"

	"github.com/streamsql/streamsql/watermark"
)

// windowAssignChunk bounds the output rows built from one slice of a pushed batch (sliding windows
// multiply rows by size/slide).
const windowAssignChunk = 64 * 1024

// WindowAssign appends window_start and window_end (TIMESTAMP) to each input row, one output row
// per window containing the row's event time (Spark's window(ts, size, slide)).
//
// Windows are [start, start+size) with start a multiple of slide counted from the Unix epoch
// (floor division, so negative timestamps are aligned the same way). Tumbling when slide == size:
// one window per row. Sliding otherwise: the candidate windows are the ceil(size/slide) ones
// starting at lastStart - k*slide (lastStart = ts - floorMod(ts, slide)), of which those with
// ts < start+size are kept: Spark's rule, which gives floor or ceil of size/slide windows per row
// when slide does not divide size. A row's windows are emitted in ascending start order, rows in
// input order. A NULL event time produces no row.
//
// Stateless: Push emits at once, Flush emits nothing. Ownership: Push borrows d; a tumbling batch
// without NULL event times is emitted as the input's own columns plus two computed ones (no copy);
// otherwise rows are gathered (window_assign_gather.go; Arrow's Take for the types it does not
// serve). Weights, when present, follow their rows.
type WindowAssign struct {
	in, out     *arrow.Schema
	tsCol       int
	size, slide int64
	nwin        int64 // ceil(size/slide): candidate windows per row
	cumulate    bool  // NewCumulateWindowAssign: slide is the step
}

// NewCumulateWindowAssign returns Flink's cumulating windows (CUMULATE(TABLE t, DESCRIPTOR(ts),
// step, size)) of the TIMESTAMP column tsCol: the windows of a row start at its size-aligned
// period's start (floor division from the Unix epoch) and end at start + k*step for k = 1 ..
// size/step; a row is in each of them that ends after its event time, so [start, start+step),
// [start, start+2*step), ..., [start, start+size). size must be a positive multiple of step.
// Everything else is as for NewWindowAssign.
func NewCumulateWindowAssign(in *arrow.Schema, tsCol int, step, size int64) (*WindowAssign, error) {
	if step <= 0 || size <= 0 || size%step != 0 {
		return nil, fmt.Errorf("window assign: a cumulating window's size (%d microseconds) must be a positive multiple of its step (%d microseconds)", size, step)
	}
	w, err := NewWindowAssign(in, tsCol, size, step)
	if err != nil {
		return nil, err
	}
	w.cumulate = true
	return w, nil
}

// NewWindowAssign returns the window assignment of the TIMESTAMP column tsCol of in. size and
// slide are in microseconds; size and slide must be positive and slide must not exceed size.
func NewWindowAssign(in *arrow.Schema, tsCol int, size, slide int64) (*WindowAssign, error) {
	if in == nil {
		return nil, fmt.Errorf("window assign: input schema is required")
	}
	if tsCol < 0 || tsCol >= in.NumFields() {
		return nil, fmt.Errorf("window assign: event-time column #%d out of range (input has %d columns)", tsCol, in.NumFields())
	}
	if f := in.Field(tsCol); f.Type.ID() != arrow.TIMESTAMP {
		return nil, fmt.Errorf("window assign: event-time column %q has type %s, want TIMESTAMP", f.Name, TypeName(f.Type))
	}
	if size <= 0 {
		return nil, fmt.Errorf("window assign: window size must be positive, got %d microseconds", size)
	}
	if slide <= 0 {
		return nil, fmt.Errorf("window assign: slide must be positive, got %d microseconds", slide)
	}
	if slide > size {
		return nil, fmt.Errorf("window assign: slide (%d microseconds) must not exceed the window size (%d microseconds)", slide, size)
	}
	fields := append(append([]arrow.Field{}, in.Fields()...),
		arrow.Field{Name: "window_start", Type: Timestamp}, arrow.Field{Name: "window_end", Type: Timestamp})
	md := in.Metadata()
	return &WindowAssign{in: in, out: arrow.NewSchema(fields, &md), tsCol: tsCol, size: size, slide: slide,
		nwin: (size + slide - 1) / slide}, nil
}

// Schema is the input schema followed by window_start and window_end.
func (w *WindowAssign) Schema() *arrow.Schema { return w.out }

// windowFloor is the start of the slide-aligned period holding ts (floor division).
func windowFloor(ts, slide int64) int64 {
	m := ts % slide
	if m < 0 {
		m += slide
	}
	return ts - m
}

// Push emits the windowed rows of d (see WindowAssign). An event time so close to the ends of the
// TIMESTAMP range that a window bound would not be representable is an error naming the value.
func (w *WindowAssign) Push(ctx *Ctx, input int, d Delta, emit Emit) error {
	if input != 0 {
		return fmt.Errorf("window assign: has one input, got input %d", input)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	rec := d.Rec
	if rec == nil {
		return fmt.Errorf("window assign: pushed delta has no record")
	}
	if int(rec.NumCols()) != w.in.NumFields() {
		return fmt.Errorf("window assign: pushed record has %d columns, input schema has %d", rec.NumCols(), w.in.NumFields())
	}
	col := rec.Column(w.tsCol)
	if col.DataType().ID() != arrow.TIMESTAMP {
		return fmt.Errorf("window assign: pushed column %d (%q) has type %s, want TIMESTAMP",
			w.tsCol, w.in.Field(w.tsCol).Name, TypeName(col.DataType()))
	}
	n := int(rec.NumRows())
	if n == 0 {
		return nil
	}
	ts := fixedValues[int64](col)[:n]
	vb, off := aggValidity(col)
	if err := w.checkRange(ts, vb, off); err != nil {
		return err
	}
	if w.slide == w.size && vb == nil {
		return w.emitTumbling(ctx, rec, d.Weights, ts, emit)
	}
	var idx, starts, ends []int64
	for lo := 0; lo < n; {
		idx, starts, ends = idx[:0], starts[:0], ends[:0]
		hi := lo
		for ; hi < n && (hi == lo || len(idx)+int(w.nwin) <= windowAssignChunk); hi++ {
			if vb != nil && !bitutil.BitIsSet(vb, off+hi) {
				continue
			}
			t := ts[hi]
			if w.cumulate {
				s := windowFloor(t, w.size)
				for k := int64(1); k <= w.nwin; k++ {
					if e := s + k*w.slide; t < e {
						idx = append(idx, int64(hi))
						starts = append(starts, s)
						ends = append(ends, e)
					}
				}
				continue
			}
			last := windowFloor(t, w.slide)
			for k := w.nwin - 1; k >= 0; k-- {
				if s := last - k*w.slide; t < s+w.size {
					idx = append(idx, int64(hi))
					starts = append(starts, s)
					ends = append(ends, s+w.size)
				}
			}
		}
		if len(idx) > 0 {
			if err := w.emitGathered(ctx, rec, d.Weights, idx, starts, ends, emit); err != nil {
				return err
			}
		}
		lo = hi
	}
	return nil
}

// checkRange rejects event times whose windows reach beyond the TIMESTAMP range.
func (w *WindowAssign) checkRange(ts []int64, vb []byte, off int) error {
	span := uint64(w.size) + uint64(w.slide)
	minT := int64(math.MinInt64)
	// Performance: test the batch's extremes first (a branch-free pass); only a batch with an
	// extreme value (possibly a NULL row's) takes the per-row loop below.
	if len(ts) > 0 {
		lo, hi := ts[0], ts[0]
		for _, t := range ts {
			lo, hi = min(lo, t), max(hi, t)
		}
		if uint64(lo)-uint64(minT) >= span && uint64(math.MaxInt64)-uint64(hi) >= span {
			return nil
		}
	}
	for i, t := range ts {
		if uint64(t)-uint64(minT) < span || uint64(math.MaxInt64)-uint64(t) < span {
			if vb != nil && !bitutil.BitIsSet(vb, off+i) {
				continue
			}
			return fmt.Errorf("window assign: event time %s (%d microseconds) is too close to the end of the TIMESTAMP range for a window of %d microseconds",
				watermark.Time(t), t, w.size)
		}
	}
	return nil
}

// emitTumbling appends the computed window columns to rec's own columns.
func (w *WindowAssign) emitTumbling(ctx *Ctx, rec arrow.RecordBatch, weights *array.Int64, ts []int64, emit Emit) error {
	n := len(ts)
	sbuf, starts := allocFixed[int64](ctx.Mem, n)
	ebuf, ends := allocFixed[int64](ctx.Mem, n)
	// Performance: event times arrive nearly in order, so most rows fall in the previous row's
	// window; the division is only paid when a row leaves it ([lo, hi) is that window).
	size := w.size
	lo, hi := int64(1), int64(0) // empty
	for i, t := range ts {
		if t < lo || t >= hi {
			m := t % size
			if m < 0 {
				m += size
			}
			lo, hi = t-m, t-m+size
		}
		starts[i] = lo
		ends[i] = hi
	}
	sa := newFixedArray(Timestamp, n, nil, sbuf, 0)
	ea := newFixedArray(Timestamp, n, nil, ebuf, 0)
	cols := append(append(make([]arrow.Array, 0, len(rec.Columns())+2), rec.Columns()...), sa, ea)
	out := array.NewRecordBatch(w.out, cols, int64(n))
	sa.Release()
	ea.Release()
	defer out.Release()
	return emit(Delta{Rec: out, Weights: weights})
}

// emitGathered emits rows idx of rec with window bounds starts and ends (one per output row).
func (w *WindowAssign) emitGathered(ctx *Ctx, rec arrow.RecordBatch, weights *array.Int64, idx, starts, ends []int64, emit Emit) error {
	cols := make([]arrow.Array, 0, rec.NumCols()+2)
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	var ia arrow.Array // for Arrow's Take, made on the first column windowGather does not serve
	defer func() {
		if ia != nil {
			ia.Release()
		}
	}()
	take := func(col arrow.Array) (arrow.Array, error) {
		if a, ok := windowGather(ctx.Mem, col, idx); ok {
			return a, nil
		}
		if ia == nil {
			ia = indexArray(ctx.Mem, idx)
		}
		return compute.TakeArray(compute.WithAllocator(windowContext(ctx), ctx.Mem), col, ia)
	}
	for _, col := range rec.Columns() {
		a, err := take(col)
		if err != nil {
			return fmt.Errorf("window assign: %w", err)
		}
		cols = append(cols, a)
	}
	var tw *array.Int64
	if weights != nil {
		a, err := take(weights)
		if err != nil {
			return fmt.Errorf("window assign: weights: %w", err)
		}
		defer a.Release()
		tw = a.(*array.Int64)
	}
	n := len(idx)
	sbuf, sv := allocFixed[int64](ctx.Mem, n)
	ebuf, ev := allocFixed[int64](ctx.Mem, n)
	copy(sv, starts)
	copy(ev, ends)
	cols = append(cols, newFixedArray(Timestamp, n, nil, sbuf, 0), newFixedArray(Timestamp, n, nil, ebuf, 0))
	out := array.NewRecordBatch(w.out, cols, int64(n))
	defer out.Release()
	return emit(Delta{Rec: out, Weights: tw})
}

// windowContext is ctx's context, or Background when the caller set none.
func windowContext(ctx *Ctx) context.Context {
	if ctx.Context == nil {
		return context.Background()
	}
	return ctx.Context
}

// Flush has nothing to emit: the operator is stateless.
func (w *WindowAssign) Flush(*Ctx, watermark.Time, Emit) error { return nil }

// Close releases nothing: the operator holds no buffers.
func (w *WindowAssign) Close() error { return nil }
