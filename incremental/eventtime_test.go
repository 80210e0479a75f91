package incremental

import (
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/sinks"
	"github.com/streamsql/streamsql/watermark"
)

const sec = int64(1e6)

func tsWatermarked(_ *planner.Scan, col int) bool { return col == 2 }

func tsRef(i int) *planner.ColRef { return &planner.ColRef{Index: i, Name: "ts", Typ: exec.Timestamp} }

func ivConst(us int64) *planner.Const { return &planner.Const{Value: us, Typ: exec.Interval} }

func fn(name string, args ...planner.Expr) *planner.Func {
	return &planner.Func{Name: name, Args: args}
}

// TestIntervalOfReadsTheTimeBound: the join condition's comparisons of the two sides' event times
// (in any direction, with intervals on either side) give r.t - l.t in [lo, hi], the eviction
// bounds and the lags of the output time columns.
func TestIntervalOfReadsTheTimeBound(t *testing.T) {
	l, r := streamScan("l"), streamScan("r")
	lts, rts := tsRef(2), tsRef(3+2)
	key := fn("=", &planner.ColRef{Index: 0, Typ: arrow.BinaryTypes.String}, &planner.ColRef{Index: 3, Typ: arrow.BinaryTypes.String})
	for _, c := range []struct {
		name   string
		cond   planner.Expr
		lo, hi int64
	}{
		{"BETWEEN l.ts AND l.ts + 10s", fn("and", fn("and", key, fn(">=", rts, lts)), fn("<=", rts, fn("+", lts, ivConst(10*sec)))), 0, 10 * sec},
		{"l.ts >= r.ts - 10s AND l.ts <= r.ts", fn("and", fn(">=", lts, fn("-", rts, ivConst(10*sec))), fn("<=", lts, rts)), 0, 10 * sec},
		{"l.ts + 5s < r.ts (one-sided)", fn("<", fn("+", ivConst(5*sec), lts), rts), 5 * sec, math.MaxInt64},
		{"l.ts = r.ts - 1s", fn("=", lts, fn("-", rts, ivConst(sec))), sec, sec},
	} {
		j := &planner.Join{Kind: planner.InnerJoin, Left: l, Right: r, Cond: c.cond}
		b := &planBuilder{mode: sinks.Append, watermarked: tsWatermarked, ops: map[planner.Node]*Op{}}
		iv := b.intervalOf(j)
		if iv == nil {
			t.Errorf("%s: no interval found", c.name)
			continue
		}
		if iv.lo != c.lo || iv.hi != c.hi || iv.leftCol != 2 || iv.rightCol != 2 {
			t.Errorf("%s: r.t - l.t in [%d, %d] on columns %d, %d; want [%d, %d] on 2, 2", c.name, iv.lo, iv.hi, iv.leftCol, iv.rightCol, c.lo, c.hi)
		}
	}
	// Bounds: left rows go below W - hi (no future right row, at or above W, can match them),
	// right rows below W + lo; a one-sided bound evicts one side only.
	iv := &intervalJoin{leftCol: 2, rightCol: 2, lo: 0, hi: 10 * sec}
	w := watermark.Time(100 * sec)
	if lb, rb := iv.bounds(w); lb != w-watermark.Time(10*sec) || rb != w {
		t.Errorf("bounds(100s) = %v, %v; want 90s, 100s", lb, rb)
	}
	if iv.outLagLeft() != 10*sec || iv.outLagRight() != 0 {
		t.Errorf("output lags %d, %d; want 10s, 0", iv.outLagLeft(), iv.outLagRight())
	}
	if lb, rb := iv.bounds(watermark.MinTime); lb != watermark.MinTime || rb != watermark.MinTime {
		t.Errorf("bounds(-inf) evict something: %v, %v", lb, rb)
	}
	// A RIGHT JOIN runs with its sides swapped: the eviction swaps columns and bounds.
	ev := iv.eviction(true, true)
	if lb, rb := ev.Bounds(w); lb != w || rb != w-watermark.Time(10*sec) || !ev.PadOnEvict {
		t.Errorf("swapped bounds %v, %v", lb, rb)
	}
	one := &intervalJoin{leftCol: 2, rightCol: 2, lo: 5 * sec, hi: math.MaxInt64}
	if lb, rb := one.bounds(w); lb != watermark.MinTime || rb != w+watermark.Time(5*sec) {
		t.Errorf("one-sided bounds %v, %v", lb, rb)
	}
	if ev := one.eviction(false, false); ev.LeftTimeCol != -1 || ev.RightTimeCol != 2 || ev.LeftLateCol != 2 {
		t.Errorf("one-sided eviction %+v", ev)
	}
}

// recorder is an operator that records the watermarks it is given.
type recorder struct {
	exec.Operator
	pushWM, flushWM []watermark.Time
}

func (r *recorder) Push(ctx *exec.Ctx, _ int, _ exec.Delta, _ exec.Emit) error {
	r.pushWM = append(r.pushWM, ctx.Watermark)
	return nil
}

func (r *recorder) Flush(_ *exec.Ctx, wm watermark.Time, _ exec.Emit) error {
	r.flushWM = append(r.flushWM, wm)
	return nil
}

// TestChainedWatermarkGivesEachOperatorItsOwn: a chained operator is flushed with W - lag and
// sees, while pushed, the eviction watermark of the previous epoch as its late-event watermark;
// the sentinels pass through unchanged.
func TestChainedWatermarkGivesEachOperatorItsOwn(t *testing.T) {
	rec := &recorder{}
	c := newChainedWatermark(rec, opWatermark{lag: 10, chained: true})
	ctx := &exec.Ctx{}
	for _, w := range []watermark.Time{watermark.MinTime, 100, 150, 150} {
		ctx.Watermark = w
		if err := c.Push(ctx, 0, exec.Delta{}, nil); err != nil {
			t.Fatal(err)
		}
		if err := c.Flush(ctx, w, nil); err != nil {
			t.Fatal(err)
		}
	}
	wantPush := []watermark.Time{watermark.MinTime, watermark.MinTime, 90, 140}
	wantFlush := []watermark.Time{watermark.MinTime, 90, 140, 140}
	for i := range wantPush {
		if rec.pushWM[i] != wantPush[i] || rec.flushWM[i] != wantFlush[i] {
			t.Fatalf("epoch %d: push saw %v, flush got %v; want %v, %v", i, rec.pushWM[i], rec.flushWM[i], wantPush[i], wantFlush[i])
		}
	}
	if got := lagged(watermark.MinTime+5, 10); got != watermark.MinTime {
		t.Errorf("lagged near -inf = %v", got)
	}
	if got := lagged(watermark.MaxTime-5, -10); got != watermark.MaxTime-1 {
		t.Errorf("lagged near +inf = %v", got)
	}
	if got := lagged(watermark.MaxTime, 10); got != watermark.MaxTime {
		t.Errorf("lagged(+inf) = %v", got)
	}
}
