package incremental

import (
	"fmt"
	"math"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/planner"
	"github.com/streamsql/streamsql/watermark"
)

// Interval (time-bounded) joins of two streams: a join whose condition bounds the difference of
// an event-time column of each side, such as
//
//	a JOIN b ON a.k = b.k AND b.ts BETWEEN a.ts AND a.ts + INTERVAL '1 hour'
//
// (r.t - l.t in [lo, hi], from any mix of <, <=, >, >=, = and BETWEEN over the two columns plus
// or minus constant intervals). Each side's future rows have event times at or above its
// watermark F = W - lag (W the global watermark, lag its input's, 0 for a stream), so a left row
// can match no future right row once l.t + hi < F_right, and a right row none once
// r.t - lo < F_left: the join evicts them then (JoinEviction). In append mode an outer side's
// NULL-padded row is emitted when its row is evicted without a match (Spark's rule), so every
// row the join emits is final. Rows of a side reading a stream directly are late when their
// event time is below W (dropped and counted); a chained side's rows are never late (the operator
// below dropped them).

type intervalJoin struct {
	// leftCol is the left side's time column, rightCol the right side's (index within the right
	// side's columns).
	leftCol, rightCol int
	// lo, hi bound r.t - l.t (math.MinInt64 / math.MaxInt64: unbounded).
	lo, hi     int64
	left, righ eventTime
	// exact is set when the join's whole residual (its condition less the equi-join keys the
	// lowering takes out) is the bound itself: every other conjunct is a non-strict comparison
	// of the two time columns (plus or minus constants) that the bound was read from, so a pair
	// passes the residual exactly when r.t - l.t is in [lo, hi], as long as the residual's
	// arithmetic does not overflow; maxOff bounds the magnitude of every constant offset added
	// on the way (so times within MaxInt64 - maxOff of zero cannot overflow).
	exact  bool
	maxOff int64
}

func (iv *intervalJoin) leftEvictable() bool  { return iv.hi != math.MaxInt64 }
func (iv *intervalJoin) rightEvictable() bool { return iv.lo != math.MinInt64 }

// outLagLeft is the lag of the left time column in the join's output: a future output row's
// left row is either new (>= F_left) or still stored (>= F_right - hi, or it was evicted).
func (iv *intervalJoin) outLagLeft() int64 {
	if !iv.leftEvictable() {
		return math.MaxInt64
	}
	return max(iv.left.lag, addLag(iv.righ.lag, max(iv.hi, 0)))
}

// outLagRight: new right rows are >= F_right, stored ones >= F_left + lo.
func (iv *intervalJoin) outLagRight() int64 {
	if !iv.rightEvictable() {
		return math.MaxInt64
	}
	return max(iv.righ.lag, addLag(iv.left.lag, max(-iv.lo, 0)))
}

// bounds maps the flushed global watermark to each side's eviction bound (rows below it go).
func (iv *intervalJoin) bounds(wm watermark.Time) (left, right watermark.Time) {
	left, right = watermark.MinTime, watermark.MinTime
	if iv.leftEvictable() {
		left = lagged(lagged(wm, iv.righ.lag), iv.hi)
	}
	if iv.rightEvictable() {
		right = lagged(lagged(wm, iv.left.lag), -iv.lo)
	}
	return left, right
}

// describe renders the join's watermarks for EXPLAIN, with the sides' column names.
func (iv *intervalJoin) describe(j *planner.Join) string {
	lname := j.Left.Columns()[iv.leftCol].Name
	rname := j.Right.Columns()[iv.rightCol].Name
	late := func(name string, et eventTime) string {
		if et.stateful {
			return name + " never late (read from a stateful operator)"
		}
		return name + " < watermark"
	}
	s := fmt.Sprintf("%s - %s in [%s, %s]; late rows (dropped): %s, %s", rname, lname, ivBound(iv.lo), ivBound(iv.hi), late("left "+lname, iv.left), late("right "+rname, iv.righ))
	if iv.leftEvictable() {
		s += fmt.Sprintf("; evicts left rows whose %s < %s", lname, wmMinus(addLag(iv.righ.lag, iv.hi)))
	}
	if iv.rightEvictable() {
		s += fmt.Sprintf("; evicts right rows whose %s < %s", rname, wmMinus(addLag(iv.left.lag, -iv.lo)))
	}
	return s
}

// wmMinus renders watermark - v.
func wmMinus(v int64) string {
	switch {
	case v == 0:
		return "watermark"
	case v < 0:
		return "watermark + " + exec.FormatInterval(-v)
	}
	return "watermark - " + exec.FormatInterval(v)
}

func ivBound(v int64) string {
	switch v {
	case math.MinInt64:
		return "-inf"
	case math.MaxInt64:
		return "+inf"
	}
	return ivSigned(v)
}

func ivSigned(v int64) string {
	if v < 0 {
		return "-" + exec.FormatInterval(-v)
	}
	return exec.FormatInterval(v)
}

// intervalOf finds the time bound of a join of two streams in its condition: the conjuncts
// comparing a left event-time column with a right one (each plus or minus constant intervals).
// It returns nil when there is none, or when the columns carry no watermark.
func (b *planBuilder) intervalOf(j *planner.Join) *intervalJoin {
	if j.Cond == nil {
		return nil
	}
	nl := len(j.Left.Columns())
	var iv *intervalJoin
	exact := true // every conjunct so far is an equi-join key or a non-strict bound (intervalJoin.exact)
	var maxOff int64
	for _, c := range planner.Conjuncts(j.Cond) {
		f, ok := c.(*planner.Func)
		if !ok || len(f.Args) != 2 {
			exact = false
			continue
		}
		// An equi-join key is not part of the residual (it may still be a bound: l.t = r.t).
		key := f.Name == "=" && columnsAcross(f.Args[0], f.Args[1], nl)
		consumed := false
		off := int64(0)
		ac, ao, ok1 := timeTerm(f.Args[0], &off)
		bc, bo, ok2 := timeTerm(f.Args[1], &off)
		switch f.Name {
		case "<", "<=", ">", ">=", "=":
		default:
			ok1 = false
		}
		if ok1 && ok2 {
			consumed, iv = iv.addBound(b, j, f.Name, ac, ao, bc, bo, nl)
		}
		if !key && (!consumed || f.Name == "<" || f.Name == ">") {
			exact = false // a strict bound is looser than [lo, hi] by one microsecond
		}
		maxOff = max(maxOff, off)
	}
	if iv == nil || (!iv.leftEvictable() && !iv.rightEvictable()) {
		return nil
	}
	iv.exact, iv.maxOff = exact, maxOff
	return iv
}

// columnsAcross reports whether a and b are plain columns of different sides of a join whose
// left side has nl columns: an equality of them is one of the equi-join keys the lowering takes
// out of the residual (planner.Lowering splits on exactly this and on more general expressions;
// only this form is recognized here, which can only make the bound look less exact).
func columnsAcross(a, b planner.Expr, nl int) bool {
	ca, ok1 := a.(*planner.ColRef)
	cb, ok2 := b.(*planner.ColRef)
	return ok1 && ok2 && (ca.Index < nl) != (cb.Index < nl)
}

// addBound folds the conjunct `a-column + ao op b-column + bo` (columns of the join's output,
// the left side's first nl) into iv (nil: none yet, then made if the columns are event-time
// columns with watermarks); consumed reports whether it did.
func (iv *intervalJoin) addBound(b *planBuilder, j *planner.Join, op string, ac int, ao int64, bc int, bo int64, nl int) (bool, *intervalJoin) {
	// Orient as l + lo' op r + ro'.
	if ac >= nl && bc < nl {
		ac, ao, bc, bo = bc, bo, ac, ao
		op = map[string]string{"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "="}[op]
	}
	if ac >= nl || bc < nl {
		return false, iv
	}
	lcol, rcol := ac, bc-nl
	if iv == nil {
		lt, okl := b.eventTimeOf(j.Left, lcol)
		rt, okr := b.eventTimeOf(j.Right, rcol)
		if !okl || !okr || lt.lag == math.MaxInt64 || rt.lag == math.MaxInt64 {
			return false, iv
		}
		iv = &intervalJoin{leftCol: lcol, rightCol: rcol, lo: math.MinInt64, hi: math.MaxInt64, left: lt, righ: rt}
	} else if lcol != iv.leftCol || rcol != iv.rightCol {
		return false, iv
	}
	// l + ao op r + bo  <=>  r - l  op'  ao - bo (op' mirrored).
	d, ok := subNoOverflow(ao, bo)
	if !ok {
		return false, iv
	}
	switch op {
	case "<", "<=": // r - l >= d
		iv.lo = max(iv.lo, d)
	case ">", ">=": // r - l <= d
		iv.hi = min(iv.hi, d)
	case "=":
		iv.lo, iv.hi = max(iv.lo, d), min(iv.hi, d)
	}
	return true, iv
}

// timeTerm reads a TIMESTAMP column plus or minus constant intervals: (column, offset). It
// raises *maxOff to the magnitude of every partial offset it adds up (math.MaxInt64 when one is
// MinInt64), bounding what evaluating the term adds to the column.
func timeTerm(e planner.Expr, maxOff *int64) (int, int64, bool) {
	switch x := e.(type) {
	case *planner.ColRef:
		if x.Typ.ID() != exec.Timestamp.ID() {
			return 0, 0, false
		}
		return x.Index, 0, true
	case *planner.Func:
		if len(x.Args) != 2 || (x.Name != "+" && x.Name != "-") {
			return 0, 0, false
		}
		if c, ok := intervalConst(x.Args[1]); ok {
			col, off, ok := timeTerm(x.Args[0], maxOff)
			if !ok {
				return 0, 0, false
			}
			if x.Name == "-" {
				c = -c
			}
			if s, ok := addNoOverflow(off, c); ok {
				*maxOff = max(*maxOff, absOff(s), absOff(c))
				return col, s, true
			}
		} else if c, ok := intervalConst(x.Args[0]); ok && x.Name == "+" {
			col, off, ok := timeTerm(x.Args[1], maxOff)
			if s, ok2 := addNoOverflow(off, c); ok && ok2 {
				*maxOff = max(*maxOff, absOff(s), absOff(c))
				return col, s, true
			}
		}
	}
	return 0, 0, false
}

// absOff is |v|, math.MaxInt64 for math.MinInt64.
func absOff(v int64) int64 {
	switch {
	case v == math.MinInt64:
		return math.MaxInt64
	case v < 0:
		return -v
	}
	return v
}

func intervalConst(e planner.Expr) (int64, bool) {
	c, ok := e.(*planner.Const)
	if !ok || c.Typ.ID() != exec.Interval.ID() {
		return 0, false
	}
	v, ok := c.Value.(int64)
	return v, ok && v != math.MinInt64
}

func addNoOverflow(a, b int64) (int64, bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, false
	}
	return s, true
}

func subNoOverflow(a, b int64) (int64, bool) {
	if b == math.MinInt64 {
		return 0, false
	}
	return addNoOverflow(a, -b)
}

// eviction builds the join's JoinEviction for the exec join, whose sides are swapped for a RIGHT
// JOIN (the lowering runs it as a LEFT JOIN).
func (iv *intervalJoin) eviction(swapped, padOnEvict bool) *exec.JoinEviction {
	lc, rc := iv.leftCol, iv.rightCol
	if !iv.leftEvictable() {
		lc = -1
	}
	if !iv.rightEvictable() {
		rc = -1
	}
	ll, rl := iv.leftCol, iv.rightCol
	if iv.left.stateful {
		ll = -1
	}
	if iv.righ.stateful {
		rl = -1
	}
	ev := &exec.JoinEviction{LeftTimeCol: lc, RightTimeCol: rc, PadOnEvict: padOnEvict, LateByWatermark: true,
		LeftLateCol: ll, RightLateCol: rl, Bounds: iv.bounds,
		Range: &exec.JoinTimeRange{LeftCol: iv.leftCol, RightCol: iv.rightCol, Lo: iv.lo, Hi: iv.hi, Exact: iv.exactWithin()}}
	if swapped {
		// left - right in [-hi, -lo]
		ev.Range = &exec.JoinTimeRange{LeftCol: iv.rightCol, RightCol: iv.leftCol, Lo: negBound(iv.hi), Hi: negBound(iv.lo), Exact: iv.exactWithin()}
		ev.LeftTimeCol, ev.RightTimeCol = rc, lc
		ev.LeftLateCol, ev.RightLateCol = rl, ll
		ev.Bounds = func(wm watermark.Time) (watermark.Time, watermark.Time) {
			l, r := iv.bounds(wm)
			return r, l
		}
	}
	return ev
}

// exactWithin is exec.JoinTimeRange.Exact: the magnitude of times for which the bound decides
// the residual alone (0: never). A term adds at most maxOff to a time, so times within
// MaxInt64 - maxOff of zero evaluate without overflow.
func (iv *intervalJoin) exactWithin() int64 {
	if !iv.exact || iv.maxOff == math.MaxInt64 {
		return 0
	}
	return math.MaxInt64 - iv.maxOff
}

// negBound negates a bound, mapping the unbounded ends to each other.
func negBound(v int64) int64 {
	switch v {
	case math.MinInt64:
		return math.MaxInt64
	case math.MaxInt64:
		return math.MinInt64
	}
	return -v
}
