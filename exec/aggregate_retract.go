package exec

import (
	"fmt"
	"math"
	"math/bits"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/streamsql/streamsql/watermark"
)

// RetractingAggregate is a streaming hash aggregate over weighted input: every input row carries
// a weight (+1 an insertion, -1 a retraction, any other integer several of either; nil Weights
// means +1 for every row). It is the aggregate used wherever its input can retract rows (over
// another aggregate, a DISTINCT, a top-N, a join of two streams), and its output is itself a
// stream of weighted changes, so stateful operators chain.
//
// State per group: the net row weight (count(*)), and per aggregate either invertible running
// values (count, sum, avg: the non-NULL weight and the exact sum) or, for min, max and every
// DISTINCT aggregate, the multiset of the argument's non-NULL values with their weights (a
// retracted minimum must reveal the next one). It also keeps the row it last emitted for the
// group, so an update can retract exactly that row.
//
// Emission (opts.Emit), at Flush:
//   - AggEmitChanged (update mode, and every aggregate feeding another operator): for each group
//     changed since the previous Flush whose result differs from the row last emitted, a
//     retraction (-1) of that row, if any, then an insertion (+1) of the new row; a group whose
//     count reached zero emits the retraction alone and is forgotten.
//   - AggEmitAll (complete mode): every live group, weight +1.
//   - AggEmitClosed (append mode): each group once (+1), when the watermark passes its event time,
//     then it is evicted. Its input must not retract a closed group's rows (a final row cannot be
//     taken back): such retractions are late data, dropped and counted.
//
// With opts.EventTimeCol >= 0, Push drops (and counts) rows whose event time is at or below the
// Ctx's watermark, and Flush(wm) evicts after emitting every group whose event time is at or
// below wm, without retracting it: its row is final. A retraction reaching a group that does not
// exist (never inserted, or already evicted) is an error unless it is late.
//
// Call order and ownership are Operator's: Push borrows d; emitted records are released after
// emit returns. One input (0).
type RetractingAggregate struct {
	stateChanges
	in, out   *arrow.Schema
	groupCols []int
	aggs      []AggSpec
	argTypes  []arrow.DataType
	opts      AggStreamOptions

	// table maps each key to a group id (the group tables of HashAggregate: the tuple table for
	// fixed-width keys plus at most one VARCHAR, e.g. key + window); byID[id] is the id's live
	// group or nil (a key whose group was forgotten, or that only late rows had). Keys without a
	// live group are dropped from the table by compact once they are a quarter of it.
	table   groupTable
	byID    []*retractGroup
	ids     []uint32        // the pushed batch's group ids, reused
	live    int             // groups in byID
	order   []*retractGroup // live groups in creation order (emission order of AggEmitAll)
	changed []*retractGroup // groups changed since the last Flush
	seq     int64

	droppedLate int64
	// stateBytes is StateBytes, kept up to date at every change of a live group (creation,
	// multiset entries, the last emitted row, removal): the driver asks after every epoch, and
	// a walk of every group was a large share of a big aggregate's time.
	stateBytes int64
	keyCols    []arrow.Array

	// Incremental checkpoints (aggregate_retract_snapshot.go): groups changed and keys of groups
	// forgotten since the last snapshot.
	snapDirty []*retractGroup
	snapGone  [][]Datum
	// snapTracking: a snapshot call showed that the query checkpoints (until then nothing is
	// tracked, so a query without checkpoints keeps nothing extra).
	snapTracking bool
}

type retractGroup struct {
	gid     uint32 // its id in the table (while live)
	keyVals []Datum
	rows    int64 // net weight of the group's rows: count(*)
	accs    []retractAcc
	evt     int64   // event time (math.MaxInt64 for NULL), with an event-time column
	last    []Datum // the row last emitted (nil: none emitted, or retracted)
	changed bool
	dead    bool // removed from groups; dropped from order at the next compaction
	// snapDirty: in RetractingAggregate.snapDirty (changed since the last snapshot).
	snapDirty bool
	seq       int64
}

// retractAcc is one aggregate's state for one group.
type retractAcc struct {
	n    int64   // weight of non-NULL argument values
	isum aggI128 // BIGINT and DECIMAL (unscaled) sums
	fsum float64 // DOUBLE sum of the finite values
	// DOUBLE infinities and NaNs are counted, not summed: Inf - Inf would turn a retraction of
	// an infinity into NaN.
	pinf, ninf, nan int64
	set             map[any]*retractValue
	cur             Datum // cached min/max (valid when curOK)
	ok              bool
}

type retractValue struct {
	v Datum
	n int64
}

// NewRetractingAggregate returns the aggregate (schemas as NewHashAggregate: out is the group
// columns then one column per aggregate, of AggResultType's types).
func NewRetractingAggregate(in *arrow.Schema, groupCols []int, aggs []AggSpec, out *arrow.Schema, opts AggStreamOptions) (*RetractingAggregate, error) {
	if in == nil || out == nil {
		return nil, fmt.Errorf("retracting aggregate: input and output schemas are required")
	}
	if want := len(groupCols) + len(aggs); out.NumFields() != want {
		return nil, fmt.Errorf("retracting aggregate: output schema has %d columns, want %d", out.NumFields(), want)
	}
	r := &RetractingAggregate{in: in, out: out, groupCols: append([]int(nil), groupCols...), aggs: append([]AggSpec(nil), aggs...),
		opts: opts}
	for i, c := range groupCols {
		if c < 0 || c >= in.NumFields() {
			return nil, fmt.Errorf("retracting aggregate: group column #%d out of range", c)
		}
		t := in.Field(c).Type
		if !aggKeyTypeSupported(t) {
			return nil, fmt.Errorf("retracting aggregate: cannot group by column %q of type %s", in.Field(c).Name, TypeName(t))
		}
		if !arrow.TypeEqual(out.Field(i).Type, t) {
			return nil, fmt.Errorf("retracting aggregate: output column %d has type %s, group column has %s", i, TypeName(out.Field(i).Type), TypeName(t))
		}
	}
	for i, a := range aggs {
		var arg arrow.DataType
		if a.Kind != AggCountStar {
			if a.Col < 0 || a.Col >= in.NumFields() {
				return nil, fmt.Errorf("retracting aggregate: %s: argument column #%d out of range", AggName(a.Kind), a.Col)
			}
			arg = in.Field(a.Col).Type
			if a.Distinct || a.Kind == AggMin || a.Kind == AggMax {
				if !aggKeyTypeSupported(arg) {
					return nil, fmt.Errorf("retracting aggregate: %s over %s is not supported", AggName(a.Kind), TypeName(arg))
				}
			}
		}
		rt, err := AggResultType(a.Kind, arg)
		if err != nil {
			return nil, fmt.Errorf("retracting aggregate: %w", err)
		}
		if f := out.Field(len(groupCols) + i); !arrow.TypeEqual(f.Type, rt) {
			return nil, fmt.Errorf("retracting aggregate: output column %q has type %s, %s returns %s", f.Name, TypeName(f.Type), AggName(a.Kind), TypeName(rt))
		}
		r.argTypes = append(r.argTypes, arg)
	}
	switch opts.Emit {
	case AggEmitAll, AggEmitChanged, AggEmitClosed:
	default:
		return nil, fmt.Errorf("retracting aggregate: unknown emission mode %d", int(opts.Emit))
	}
	if opts.EventTimeCol < -1 || opts.EventTimeCol >= len(groupCols) {
		return nil, fmt.Errorf("retracting aggregate: event-time column #%d is not one of the %d group columns", opts.EventTimeCol, len(groupCols))
	}
	if opts.EventTimeCol >= 0 && in.Field(groupCols[opts.EventTimeCol]).Type.ID() != arrow.TIMESTAMP {
		return nil, fmt.Errorf("retracting aggregate: the event-time group column must be a TIMESTAMP")
	}
	if opts.Emit == AggEmitClosed && opts.EventTimeCol < 0 {
		return nil, fmt.Errorf("retracting aggregate: append mode (emit closed groups) needs an event-time group column")
	}
	keyTypes := make([]arrow.DataType, len(groupCols))
	for i, c := range groupCols {
		keyTypes[i] = in.Field(c).Type
	}
	r.table = newGroupTable(keyTypes)
	return r, nil
}

func (r *RetractingAggregate) Schema() *arrow.Schema { return r.out }

// DroppedLate counts the input rows dropped because their event time was at or below the
// watermark.
func (r *RetractingAggregate) DroppedLate() int64 { return r.droppedLate }

// StateRows is the number of live groups.
func (r *RetractingAggregate) StateRows() int64 { return int64(r.live) }

// StateBytes estimates the memory held by the live groups (the sum of retractGroupBytes) and
// the key table.
func (r *RetractingAggregate) StateBytes() int64 {
	return r.stateBytes + r.table.bytes() + int64(cap(r.byID))*8
}

// Sizes of the estimate: a multiset entry, a Datum, and a group's and an accumulator's fixed part.
const (
	retractEntryBytes = 48
	retractDatumBytes = 16
	retractGroupFixed = 64
	retractAccBytes   = 64
)

// retractGroupBytes estimates the memory g holds.
func retractGroupBytes(g *retractGroup) int64 {
	b := int64(retractGroupFixed) + int64(len(g.keyVals)+len(g.last))*retractDatumBytes + int64(len(g.accs))*retractAccBytes
	for _, a := range g.accs {
		b += int64(len(a.set)) * retractEntryBytes
	}
	return b
}

func (r *RetractingAggregate) Push(ctx *Ctx, input int, d Delta, emit Emit) error {
	if input != 0 {
		return fmt.Errorf("retracting aggregate: no input %d", input)
	}
	rec := d.Rec
	n := int(rec.NumRows())
	var weights []int64
	var wvalid func(i int) bool
	if d.Weights != nil {
		if d.Weights.Len() != n {
			return fmt.Errorf("retracting aggregate: %d weights for %d rows", d.Weights.Len(), n)
		}
		weights = d.Weights.Int64Values()
		if d.Weights.NullN() > 0 {
			wvalid = func(i int) bool { return d.Weights.IsValid(i) }
		}
	}
	r.keyCols = r.keyCols[:0]
	for _, c := range r.groupCols {
		r.keyCols = append(r.keyCols, rec.Column(c))
	}
	var evtCol *array.Timestamp
	if r.opts.EventTimeCol >= 0 {
		evtCol, _ = rec.Column(r.groupCols[r.opts.EventTimeCol]).(*array.Timestamp)
	}
	wm := ctx.Watermark
	r.ids = aggGrow(r.ids, n)
	r.table.assign(r.keyCols, n, r.ids[:n])
	r.byID = aggGrow(r.byID, r.table.numGroups())
	args := make([]arrow.Array, len(r.aggs))
	for i, a := range r.aggs {
		if a.Kind != AggCountStar {
			args[i] = rec.Column(a.Col)
		}
	}
	for i := 0; i < n; i++ {
		w := int64(1)
		if weights != nil {
			if wvalid != nil && !wvalid(i) {
				return fmt.Errorf("retracting aggregate: NULL weight in row %d", i)
			}
			w = weights[i]
		}
		if w == 0 {
			continue
		}
		evt := int64(math.MaxInt64)
		if evtCol != nil && evtCol.IsValid(i) {
			evt = int64(evtCol.Value(i))
			if wm != watermark.MinTime && evt <= int64(wm) {
				r.droppedLate++
				continue
			}
		}
		gid := r.ids[i]
		g := r.byID[gid]
		if g == nil {
			if w < 0 {
				return fmt.Errorf("retracting aggregate: a retraction for group (%s), which holds no rows", r.describeKey(i))
			}
			g = &retractGroup{gid: gid, keyVals: make([]Datum, len(r.keyCols)), accs: make([]retractAcc, len(r.aggs)), evt: evt, seq: r.seq}
			r.seq++
			for k, c := range r.keyCols {
				g.keyVals[k] = ValueAt(c, i)
			}
			r.byID[gid] = g
			r.live++
			r.order = append(r.order, g)
			r.stateBytes += retractGroupBytes(g)
		}
		if g.rows+w < 0 {
			return fmt.Errorf("retracting aggregate: group (%s) would hold %d rows after a retraction", r.describeKey(i), g.rows+w)
		}
		g.rows += w
		for k, a := range r.aggs {
			if a.Kind == AggCountStar {
				continue
			}
			if err := r.updateAcc(&g.accs[k], k, ValueAt(args[k], i), w); err != nil {
				return err
			}
		}
		if !g.changed {
			g.changed = true
			r.changed = append(r.changed, g)
		}
	}
	return nil
}

func (r *RetractingAggregate) describeKey(i int) string {
	parts := make([]string, len(r.keyCols))
	for k, c := range r.keyCols {
		parts[k] = FormatValue(c, i)
	}
	return strings.Join(parts, ", ")
}

// needsSet: min, max and DISTINCT aggregates keep the multiset of their argument's values.
func (r *RetractingAggregate) needsSet(k int) bool {
	a := r.aggs[k]
	return a.Distinct || a.Kind == AggMin || a.Kind == AggMax
}

func (r *RetractingAggregate) updateAcc(acc *retractAcc, k int, v Datum, w int64) error {
	if v == nil {
		return nil
	}
	a := r.aggs[k]
	if acc.n+w < 0 {
		return fmt.Errorf("retracting aggregate: %s retracts a value it never received", AggName(a.Kind))
	}
	acc.n += w
	if r.needsSet(k) {
		if acc.set == nil {
			acc.set = map[any]*retractValue{}
		}
		mk := setKey(v)
		e := acc.set[mk]
		if e == nil {
			if w < 0 {
				return fmt.Errorf("retracting aggregate: %s retracts a value it never received", AggName(a.Kind))
			}
			e = &retractValue{v: v}
			acc.set[mk] = e
			r.stateBytes += retractEntryBytes
		}
		e.n += w
		if e.n < 0 {
			return fmt.Errorf("retracting aggregate: %s retracts a value more often than it received it", AggName(a.Kind))
		}
		if e.n == 0 {
			delete(acc.set, mk)
			r.stateBytes -= retractEntryBytes
		}
		if a.Kind == AggMin || a.Kind == AggMax {
			switch {
			case w > 0 && acc.ok && r.better(a.Kind, v, acc.cur):
				acc.cur = v
			case w < 0 && acc.ok && e.n == 0 && datumCompare(v, acc.cur) == 0:
				acc.ok = false
			case w > 0 && !acc.ok && len(acc.set) == 1:
				acc.cur, acc.ok = v, true
			}
		}
		if a.Distinct {
			return nil
		}
	}
	if a.Kind == AggSum || a.Kind == AggAvg {
		switch x := v.(type) {
		case int64:
			acc.isum = i128AddMul(acc.isum, x, w)
		case float64:
			switch {
			case x != x:
				acc.nan += w
			case math.IsInf(x, 1):
				acc.pinf += w
			case math.IsInf(x, -1):
				acc.ninf += w
			default:
				acc.fsum += x * float64(w)
			}
		case decimal128.Num:
			lo, hi := x.LowBits(), x.HighBits()
			// w * (hi:lo) for |w| small: repeated 128-bit adds keep it exact without big.Int.
			for j := int64(0); j < abs64(w); j++ {
				if w > 0 {
					acc.isum = i128Add(acc.isum, aggI128{lo: lo, hi: hi})
				} else {
					acc.isum = i128Sub(acc.isum, aggI128{lo: lo, hi: hi})
				}
			}
		default:
			return fmt.Errorf("retracting aggregate: %s over %T", AggName(a.Kind), v)
		}
	}
	return nil
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func i128Add(a, b aggI128) aggI128 {
	lo, c := bits.Add64(a.lo, b.lo, 0)
	return aggI128{lo: lo, hi: a.hi + b.hi + int64(c)}
}

func i128Sub(a, b aggI128) aggI128 {
	lo, c := bits.Sub64(a.lo, b.lo, 0)
	return aggI128{lo: lo, hi: a.hi - b.hi - int64(c)}
}

// i128AddMul is a + v*w, exact.
func i128AddMul(a aggI128, v, w int64) aggI128 {
	neg := (v < 0) != (w < 0)
	hi, lo := bits.Mul64(uint64(abs64(v)), uint64(abs64(w)))
	p := aggI128{lo: lo, hi: int64(hi)}
	if neg {
		return i128Sub(a, p)
	}
	return i128Add(a, p)
}

// setKey is the map key of a value in a multiset: floats by bit pattern (so NaN finds itself,
// and -0 is 0), everything else as it is (every Datum type is comparable).
func setKey(v Datum) any {
	if f, ok := v.(float64); ok {
		if f == 0 {
			f = 0
		}
		if f != f {
			return math.Float64bits(math.NaN())
		}
		return math.Float64bits(f)
	}
	return v
}

// datumCompare orders two non-NULL Datums of one SQL type (NaN above every other DOUBLE, as in
// PostgreSQL).
func datumCompare(a, b Datum) int {
	switch x := a.(type) {
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case int64:
		return cmp3(x, b.(int64))
	case int32:
		return cmp3(arrow.Date32(x), arrow.Date32(b.(int32)))
	case string:
		return strings.Compare(x, b.(string))
	case float64:
		y := b.(float64)
		xn, yn := x != x, y != y
		switch {
		case xn && yn:
			return 0
		case xn:
			return 1
		case yn:
			return -1
		}
		return cmp3(x, y)
	case decimal128.Num:
		return x.Cmp(b.(decimal128.Num))
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

func (r *RetractingAggregate) better(kind AggKind, v, cur Datum) bool {
	c := datumCompare(v, cur)
	if kind == AggMin {
		return c < 0
	}
	return c > 0
}

// floatSum is the DOUBLE sum of finite values adding up to finite and the given numbers of +Inf,
// -Inf and NaN values.
func floatSum(finite float64, pinf, ninf, nan int64) float64 {
	switch {
	case nan > 0 || (pinf > 0 && ninf > 0):
		return math.NaN()
	case pinf > 0:
		return math.Inf(1)
	case ninf > 0:
		return math.Inf(-1)
	}
	return finite
}

// result computes aggregate k of g.
func (r *RetractingAggregate) result(g *retractGroup, k int) (Datum, error) {
	a, acc := r.aggs[k], &g.accs[k]
	switch a.Kind {
	case AggCountStar:
		return g.rows, nil
	case AggCount:
		if a.Distinct {
			return int64(len(acc.set)), nil
		}
		return acc.n, nil
	}
	if acc.n == 0 {
		return nil, nil
	}
	switch a.Kind {
	case AggMin, AggMax:
		if !acc.ok {
			first := true
			for _, e := range acc.set {
				if first || r.better(a.Kind, e.v, acc.cur) {
					acc.cur, first = e.v, false
				}
			}
			acc.ok = true
		}
		return acc.cur, nil
	}
	// sum and avg
	sum, fsum, cnt := acc.isum, floatSum(acc.fsum, acc.pinf, acc.ninf, acc.nan), acc.n
	if a.Distinct {
		vals := make([]Datum, 0, len(acc.set))
		for _, e := range acc.set {
			vals = append(vals, e.v)
		}
		sort.Slice(vals, func(i, j int) bool { return datumCompare(vals[i], vals[j]) < 0 })
		sum, fsum, cnt = aggI128{}, 0, int64(len(vals))
		for _, v := range vals {
			switch x := v.(type) {
			case int64:
				sum = i128AddMul(sum, x, 1)
			case float64:
				fsum += x
			case decimal128.Num:
				sum = i128Add(sum, aggI128{lo: x.LowBits(), hi: x.HighBits()})
			}
		}
	}
	arg := r.argTypes[k]
	switch arg.ID() {
	case arrow.INT64:
		if a.Kind == AggAvg {
			return sum.divFloat(cnt, 0), nil
		}
		if !sum.fitsInt64() {
			return nil, fmt.Errorf("bigint out of range in sum: %s", sum.bigInt())
		}
		return int64(sum.lo), nil
	case arrow.FLOAT64:
		if a.Kind == AggAvg {
			return fsum / float64(cnt), nil
		}
		return fsum, nil
	case arrow.DECIMAL128:
		if a.Kind == AggAvg {
			return sum.divFloat(cnt, arg.(*arrow.Decimal128Type).Scale), nil
		}
		return decimal128.New(sum.hi, sum.lo), nil
	}
	return nil, nil
}

func (r *RetractingAggregate) row(g *retractGroup) ([]Datum, error) {
	out := make([]Datum, 0, len(g.keyVals)+len(r.aggs))
	out = append(out, g.keyVals...)
	for k := range r.aggs {
		v, err := r.result(g, k)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func rowsEqual(a, b []Datum) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if (a[i] == nil) != (b[i] == nil) {
			return false
		}
		if a[i] != nil && setKey(a[i]) != setKey(b[i]) {
			return false
		}
	}
	return true
}

func (r *RetractingAggregate) closed(g *retractGroup, wm watermark.Time) bool {
	return r.opts.EventTimeCol >= 0 && (wm == watermark.MaxTime || g.evt <= int64(wm))
}

// global reports an aggregate without GROUP BY: its one group exists even without rows (count 0,
// NULL sums), as in a batch query, so it is never forgotten.
func (r *RetractingAggregate) global() bool { return len(r.groupCols) == 0 }

// ensureGlobal creates the group of an aggregate without GROUP BY (before the first Flush, or
// after a restore of an operator that had none).
func (r *RetractingAggregate) ensureGlobal() {
	if !r.global() || r.live > 0 {
		return
	}
	g := &retractGroup{accs: make([]retractAcc, len(r.aggs)), evt: math.MaxInt64, seq: r.seq}
	r.seq++
	r.byID = aggGrow(r.byID, 1)
	r.byID[0] = g
	r.live++
	r.order = append(r.order, g)
	r.stateBytes += retractGroupBytes(g)
	g.changed = true
	r.changed = append(r.changed, g)
}

func (r *RetractingAggregate) Flush(ctx *Ctx, wm watermark.Time, emit Emit) error {
	r.ensureGlobal()
	r.rowsUpdated += int64(len(r.changed)) // each group at most once (its changed flag)
	r.markSnapDirty()
	b := newDeltaBuilder(ctx, r.out)
	defer b.release()
	switch r.opts.Emit {
	case AggEmitChanged:
		for _, g := range r.changed {
			g.changed = false
			if g.dead {
				continue
			}
			var next []Datum
			if g.rows > 0 || r.global() {
				var err error
				if next, err = r.row(g); err != nil {
					return err
				}
			}
			if g.last != nil && next != nil && rowsEqual(g.last, next) {
				continue
			}
			if g.last != nil {
				if err := b.add(g.last, -1, emit); err != nil {
					return err
				}
			}
			if next != nil {
				if err := b.add(next, 1, emit); err != nil {
					return err
				}
			}
			r.stateBytes += int64(len(next)-len(g.last)) * retractDatumBytes
			g.last = next
			if next == nil {
				r.forget(g)
			}
		}
		r.changed = r.changed[:0]
	case AggEmitAll:
		for _, g := range r.changed {
			g.changed = false
			if g.rows == 0 && !r.global() {
				r.forget(g)
			}
		}
		r.changed = r.changed[:0]
		for _, g := range r.order {
			if g.dead {
				continue
			}
			row, err := r.row(g)
			if err != nil {
				return err
			}
			if err := b.add(row, 1, emit); err != nil {
				return err
			}
		}
	case AggEmitClosed:
		for _, g := range r.changed {
			g.changed = false
			if g.rows == 0 {
				r.forget(g)
			}
		}
		r.changed = r.changed[:0]
		for _, g := range r.order {
			if g.dead || !r.closed(g, wm) {
				continue
			}
			row, err := r.row(g)
			if err != nil {
				return err
			}
			if err := b.add(row, 1, emit); err != nil {
				return err
			}
		}
	}
	if err := b.flush(emit); err != nil {
		return err
	}
	if r.opts.EventTimeCol >= 0 && r.opts.Emit != AggEmitAll {
		for _, g := range r.order {
			if !g.dead && r.closed(g, wm) {
				r.forget(g)
			}
		}
	}
	r.compact()
	return nil
}

func (r *RetractingAggregate) forget(g *retractGroup) {
	if !g.dead && !r.global() {
		if r.snapTracking {
			r.snapGone = append(r.snapGone, g.keyVals)
		}
		g.dead = true
		r.byID[g.gid] = nil
		r.live--
		r.stateBytes -= retractGroupBytes(g)
		r.rowsRemoved++
	}
}

// compact drops forgotten groups from the creation order, and keys without a live group from
// the table, once they are a quarter of either.
func (r *RetractingAggregate) compact() {
	if n := r.table.numGroups(); !r.global() && n-r.live > n/4 {
		keep := make([]uint32, 0, r.live)
		for gid, g := range r.byID[:n] {
			if g != nil {
				keep = append(keep, uint32(gid))
			}
		}
		r.table.compact(keep, make([]int32, n))
		for i, gid := range keep {
			g := r.byID[gid]
			g.gid = uint32(i)
			r.byID[i] = g
		}
		clear(r.byID[len(keep):])
		r.byID = r.byID[:len(keep)]
		if cap(r.byID) > 2*len(keep)+64 {
			r.byID = append([]*retractGroup(nil), r.byID...)
		}
	}
	if len(r.order)-r.live <= len(r.order)/4 {
		return
	}
	live := r.order[:0]
	for _, g := range r.order {
		if !g.dead {
			live = append(live, g)
		}
	}
	clear(r.order[len(live):])
	r.order = live
}

func (r *RetractingAggregate) Close() error {
	r.byID, r.order, r.changed = nil, nil, nil
	r.live = 0
	r.stateBytes = 0
	return nil
}

// deltaBuilder accumulates weighted rows of Datums and emits them as Deltas of at most
// aggMaxBatchRows rows. Records are released after emit returns.
type deltaBuilder struct {
	ctx     *Ctx
	schema  *arrow.Schema
	b       *array.RecordBuilder
	weights *array.Int64Builder
	n       int
}

func newDeltaBuilder(ctx *Ctx, schema *arrow.Schema) *deltaBuilder {
	return &deltaBuilder{ctx: ctx, schema: schema}
}

func (d *deltaBuilder) add(row []Datum, w int64, emit Emit) error {
	if d.b == nil {
		d.b = array.NewRecordBuilder(d.ctx.Mem, d.schema)
		d.weights = array.NewInt64Builder(d.ctx.Mem)
	}
	for i, v := range row {
		if err := AppendDatum(d.b.Field(i), v); err != nil {
			return fmt.Errorf("column %q: %w", d.schema.Field(i).Name, err)
		}
	}
	d.weights.Append(w)
	d.n++
	if d.n >= aggMaxBatchRows {
		return d.flush(emit)
	}
	return nil
}

func (d *deltaBuilder) flush(emit Emit) error {
	if d.n == 0 {
		return nil
	}
	rec := d.b.NewRecordBatch()
	w := d.weights.NewInt64Array()
	d.n = 0
	defer rec.Release()
	defer w.Release()
	return emit(Delta{Rec: rec, Weights: w})
}

func (d *deltaBuilder) release() {
	if d.b != nil {
		d.b.Release()
		d.weights.Release()
	}
}
