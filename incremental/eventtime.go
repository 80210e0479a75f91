package incremental

import (
	"fmt"
	"math"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/watermark"
)

// Per-operator watermarks (Spark 3.4's multiple stateful operators).
//
// A query has one global watermark W per epoch (the minimum over its streams of max event time
// minus delay). An operator reading the streams directly uses W both ways: it drops rows older
// than W and closes (evicts) state at W. An operator fed by another stateful operator cannot: a
// windowed aggregation emits a window in the very epoch W passes its end, so to the operator
// above that row would already be "late" by W, and a window over the aggregation's window_start
// must wait until no window starting inside it can still be emitted. So every stateful operator
// gets two watermarks:
//
//   - the eviction watermark E = W - lag: state whose event time is at or below E is final
//     (emitted in append mode) and forgotten. lag is how far the event time of its input can
//     trail W (see eventTime);
//   - the late-event watermark: rows older than it are dropped and counted. For an operator
//     reading the streams it is W (as before); for a chained one it is the eviction watermark of
//     the previous epoch, as in Spark, which the operators below never violate (they drop late
//     rows themselves and emit only rows newer than what they already closed).
//
// Each operator's output event time is derived from its input's: a windowed aggregation's
// window_end trails W by its own lag, its window_start by lag + the window size; an interval
// join's time columns trail by the other side's lag plus the interval (see intervalJoin).

// eventTime describes an output column carrying event time: every row a node emits in an epoch
// after one whose global watermark was W (and that no stateful operator drops as late) holds a
// value >= W - lag in it (or NULL).
type eventTime struct {
	lag int64
	// stateful: a stateful operator lies between the column and the streams (so an operator
	// reading it is chained).
	stateful bool
}

// eventTimeOf follows column col of n down to a watermarked stream column, through stateless
// nodes and the stateful operators that derive an event time (windowed aggregates, interval
// joins), whose Ops must already be built. ok is false when the column carries no event time
// with a watermark.
func (b *planBuilder) eventTimeOf(n planner.Node, col int) (eventTime, bool) {
	switch x := n.(type) {
	case *planner.Scan:
		idx := col
		if x.Proj != nil {
			idx = x.Proj[col]
		}
		return eventTime{}, b.watermarked(x, idx)
	case *planner.Project:
		if c, ok := x.Exprs[col].(*planner.ColRef); ok {
			return b.eventTimeOf(x.Input, c.Index)
		}
	case *planner.Filter:
		return b.eventTimeOf(x.Input, col)
	case *planner.Explode:
		if col != x.Col {
			return b.eventTimeOf(x.Input, col)
		}
	case *planner.WindowAssign:
		n := len(x.Input.Columns())
		if col < n {
			return b.eventTimeOf(x.Input, col)
		}
		et, ok := b.eventTimeOf(x.Input, x.TimeCol)
		if ok && col == n { // window_start: up to the window size before the event time
			et.lag = addLag(et.lag, x.Size)
		}
		return et, ok
	case *planner.Aggregate:
		op := b.ops[x]
		if op == nil || op.evict == nil || !x.Windowed {
			return eventTime{}, false
		}
		out := eventTime{lag: op.evict.lag, stateful: true}
		switch {
		case col == x.WindowEnd:
			return out, true
		case col < len(x.Groups) && isWindowStart(x, col):
			out.lag = addLag(out.lag, windowOf(x).Size)
			return out, true
		}
	case *planner.Join:
		nl := len(x.Left.Columns())
		if op := b.ops[x]; op != nil && op.interval != nil {
			iv := op.interval
			switch col {
			case iv.leftCol:
				return eventTime{lag: iv.outLagLeft(), stateful: true}, true
			case nl + iv.rightCol:
				return eventTime{lag: iv.outLagRight(), stateful: true}, true
			}
			return eventTime{}, false
		}
		// A join without a time bound passes its sides' event times through, as before
		// per-operator watermarks (a row it emits late is dropped by the operator above).
		if col < nl {
			return b.eventTimeOf(x.Left, col)
		}
		return b.eventTimeOf(x.Right, col-nl)
	case *planner.Union:
		var out eventTime
		for i, in := range x.Inputs {
			et, ok := b.eventTimeOf(in, col)
			if !ok || (i > 0 && et.stateful != out.stateful) {
				// Mixing a stream's rows with a stateful operator's output would need both
				// kinds of late-event watermark at once.
				return eventTime{}, false
			}
			out.stateful = et.stateful
			out.lag = max(out.lag, et.lag)
		}
		return out, len(x.Inputs) > 0
	}
	return eventTime{}, false
}

// windowOf is the WindowAssign a windowed aggregate groups by (nil: none).
func windowOf(a *planner.Aggregate) *planner.WindowAssign {
	var wa *planner.WindowAssign
	var find func(planner.Node)
	find = func(n planner.Node) {
		if w, ok := n.(*planner.WindowAssign); ok && wa == nil {
			wa = w
			return
		}
		for _, c := range n.Children() {
			find(c)
		}
	}
	find(a.Input)
	return wa
}

// isWindowStart reports whether group g of a is the window_start of its window.
func isWindowStart(a *planner.Aggregate, g int) bool {
	wa := windowOf(a)
	c, ok := a.Groups[g].(*planner.ColRef)
	if wa == nil || !ok {
		return false
	}
	return traceToWindowCol(a.Input, c.Index, wa) == len(wa.Input.Columns())
}

// traceToWindowCol follows col of n through projections and filters to wa and returns the column
// of wa it is (-1: not a column of wa).
func traceToWindowCol(n planner.Node, col int, wa *planner.WindowAssign) int {
	switch x := n.(type) {
	case *planner.WindowAssign:
		if x == wa {
			return col
		}
	case *planner.Project:
		if c, ok := x.Exprs[col].(*planner.ColRef); ok {
			return traceToWindowCol(x.Input, c.Index, wa)
		}
	case *planner.Filter:
		return traceToWindowCol(x.Input, col, wa)
	}
	return -1
}

// addLag adds two lags, saturating.
func addLag(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// lagged is wm - lag, keeping the sentinels (MinTime: nothing closes; MaxTime: everything does)
// and never overflowing.
func lagged(wm watermark.Time, lag int64) watermark.Time {
	switch {
	case wm == watermark.MinTime || wm == watermark.MaxTime:
		return wm
	case lag > 0 && wm < watermark.MinTime+watermark.Time(lag)+1:
		return watermark.MinTime
	case lag < 0 && wm > watermark.MaxTime+watermark.Time(lag)-1:
		return watermark.MaxTime - 1
	}
	return wm - watermark.Time(lag)
}

// opWatermark is how a chained stateful operator derives its watermarks from the global one.
type opWatermark struct {
	// lag: the eviction watermark is W - lag.
	lag int64
	// chained: the operator reads another stateful operator's output, so its late-event
	// watermark is its previous eviction watermark instead of W.
	chained bool
}

// describe renders the watermarks for EXPLAIN; what is the event-time value compared.
func (w *opWatermark) describe(what string) string {
	if !w.chained {
		return fmt.Sprintf("late rows: %s <= watermark (dropped); eviction: %s <= watermark", what, what)
	}
	ev := "watermark"
	if w.lag > 0 {
		ev = "watermark - " + exec.FormatInterval(w.lag)
	}
	return fmt.Sprintf("late rows: %s <= the previous epoch's eviction watermark (dropped); eviction: %s <= %s (its input's event time trails the watermark by %s)",
		what, what, ev, exec.FormatInterval(w.lag))
}

// chainedWatermark runs a stateful operator fed by another one with its own watermarks (see
// opWatermark): pushes see the late-event watermark in ctx.Watermark, Flush gets the eviction
// watermark. It keeps nothing but the last eviction watermark; after a restart that is MinTime
// for one epoch, which drops nothing the operators below would not have dropped already.
type chainedWatermark struct {
	exec.Operator
	wm        opWatermark
	prevEvict watermark.Time
}

func newChainedWatermark(op exec.Operator, wm opWatermark) *chainedWatermark {
	return &chainedWatermark{Operator: op, wm: wm, prevEvict: watermark.MinTime}
}

func (c *chainedWatermark) Push(ctx *exec.Ctx, input int, d exec.Delta, emit exec.Emit) error {
	sub := *ctx
	if ctx.Watermark != watermark.MinTime {
		// MinTime (complete mode, views) keeps everything.
		sub.Watermark = c.prevEvict
	}
	return c.Operator.Push(&sub, input, d, emit)
}

func (c *chainedWatermark) Flush(ctx *exec.Ctx, wm watermark.Time, emit exec.Emit) error {
	e := lagged(wm, c.wm.lag)
	sub := *ctx
	sub.Watermark = e
	if err := c.Operator.Flush(&sub, e, emit); err != nil {
		return err
	}
	if e > c.prevEvict {
		c.prevEvict = e
	}
	return nil
}
