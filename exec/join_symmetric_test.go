package exec_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/watermark"
)

var streamJoinKinds = []exec.StreamJoinKind{exec.StreamJoinInner, exec.StreamJoinLeft, exec.StreamJoinRight, exec.StreamJoinFull}

// symCase is one join shape: the two input schemas, the keys, an optional residual with its Go
// oracle (over the joined row), and how rows of each side are drawn.
type symCase struct {
	name                string
	left, right         *arrow.Schema
	leftKeys, rightKeys []int
	residual            func(t testing.TB) exec.Expr
	residualOracle      func(joined []exec.Datum) bool
	evict               *exec.JoinEviction
}

func (c symCase) build(t testing.TB, kind exec.StreamJoinKind) func() snapOperator {
	return func() snapOperator {
		var res exec.Expr
		if c.residual != nil {
			res = c.residual(t)
		}
		j, err := exec.NewSymmetricHashJoin(kind, c.left, c.right, c.leftKeys, c.rightKeys, res, c.evict)
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
}

// symOracle is the batch join of the accumulated left and right multisets (weights positive):
// each left row against every right row with SQL-equal keys (right rows bucketed by their
// normalized key, a NULL key in no bucket) passing the residual, plus the padded unmatched rows.
func symOracle(c symCase, kind exec.StreamJoinKind, left, right zset) zset {
	out := zset{}
	nl, nr := c.left.NumFields(), c.right.NumFields()
	keyOf := func(row []exec.Datum, cols []int) (string, bool) {
		k := make([]exec.Datum, len(cols))
		for i, col := range cols {
			if row[col] == nil {
				return "", false
			}
			k[i] = row[col]
		}
		return dlNormKey(k), true
	}
	buckets := map[string][]string{}
	for rk, r := range right {
		if k, ok := keyOf(r.row, c.rightKeys); ok {
			buckets[k] = append(buckets[k], rk)
		}
	}
	matchedR := map[string]bool{}
	for _, l := range left {
		matched := false
		k, ok := keyOf(l.row, c.leftKeys)
		var cands []string
		if ok {
			cands = buckets[k]
		}
		for _, rk := range cands {
			r := right[rk]
			for i := range c.leftKeys {
				if !opSQLEqual(l.row[c.leftKeys[i]], r.row[c.rightKeys[i]]) {
					panic("oracle bucket holds a row with another key")
				}
			}
			joined := append(append([]exec.Datum{}, l.row...), r.row...)
			if c.residualOracle != nil && !c.residualOracle(joined) {
				continue
			}
			matched = true
			matchedR[rk] = true
			out.add(joined, l.w*r.w)
		}
		if !matched && (kind == exec.StreamJoinLeft || kind == exec.StreamJoinFull) {
			out.add(append(append([]exec.Datum{}, l.row...), make([]exec.Datum, nr)...), l.w)
		}
	}
	if kind == exec.StreamJoinRight || kind == exec.StreamJoinFull {
		for rk, r := range right {
			if !matchedR[rk] {
				out.add(append(make([]exec.Datum, nl), r.row...), r.w)
			}
		}
	}
	return out
}

// symEpochs draws epochs of both inputs (inserts, retractions of earlier rows, duplicates) and
// interleaves the pushes of the two sides in random pieces.
func symEpochs(r *rand.Rand, c symCase, epochs, perEpoch, nullPct int) []dlEpoch {
	genL := func() []exec.Datum { return symRandRow(r, c.left, nullPct) }
	genR := func() []exec.Datum { return symRandRow(r, c.right, nullPct) }
	ls := dlRandEpochs(r, epochs, perEpoch, genL)
	rs := dlRandEpochs(r, epochs, perEpoch, genR)
	out := make([]dlEpoch, epochs)
	for e := range out {
		var pieces []dlPush
		for input, rows := range [][]wrow{ls[e], rs[e]} {
			for len(rows) > 0 {
				k := min(len(rows), 1+r.IntN(len(rows)))
				pieces = append(pieces, dlPush{input: input, rows: rows[:k]})
				rows = rows[k:]
			}
		}
		r.Shuffle(len(pieces), func(i, j int) { pieces[i], pieces[j] = pieces[j], pieces[i] })
		out[e] = dlEpoch{pushes: pieces}
	}
	return out
}

func symRandRow(r *rand.Rand, s *arrow.Schema, nullPct int) []exec.Datum {
	row := make([]exec.Datum, s.NumFields())
	for i, f := range s.Fields() {
		row[i] = opRandDatum(r, f.Type, nullPct)
	}
	return row
}

// symAccumulate returns the left and right multisets after epoch upTo.
func symAccumulate(epochs []dlEpoch, upTo int) (zset, zset) {
	acc := [2]zset{{}, {}}
	for _, ep := range epochs[:upTo+1] {
		for _, p := range ep.pushes {
			for _, w := range p.rows {
				acc[p.input].add(w.row, w.w)
			}
		}
	}
	return acc[0], acc[1]
}

func symLess(lv, rv int) (func(t testing.TB) exec.Expr, func(joined []exec.Datum) bool) {
	return func(t testing.TB) exec.Expr {
			return opCall(t, "<", opCol(lv, exec.Int64), opCol(rv, exec.Int64))
		}, func(j []exec.Datum) bool {
			a, b := j[lv], j[rv]
			return a != nil && b != nil && a.(int64) < b.(int64)
		}
}

func symCases() []symCase {
	lessRes, lessOracle := symLess(1, 4)
	crossRes, crossOracle := symLess(0, 4)
	return []symCase{
		{name: "int-key", left: opSchema(exec.Int64, exec.String), right: opSchema(exec.Int64, exec.Int64),
			leftKeys: []int{0}, rightKeys: []int{0}},
		{name: "two-keys+residual", left: opSchema(exec.Int64, exec.Int64, exec.String), right: opSchema(exec.String, exec.Int64, exec.Int64),
			leftKeys: []int{0, 2}, rightKeys: []int{2, 0}, residual: lessRes, residualOracle: lessOracle},
		{name: "float-key", left: opSchema(exec.Float64, exec.Bool), right: opSchema(exec.Bool, exec.Float64, opDecimal),
			leftKeys: []int{0}, rightKeys: []int{1}},
		{name: "cross+residual", left: opSchema(exec.Int64, exec.Date), right: opSchema(exec.String, exec.Timestamp, exec.Int64),
			residual: crossRes, residualOracle: crossOracle},
	}
}

// TestSymmetricHashJoinMatchesBatch: after every epoch the integral of the join's output equals
// the batch join of everything pushed so far, for every kind, with NULL keys, duplicates,
// retractions (some before their insertion) and both inputs interleaved in random pieces.
func TestSymmetricHashJoinMatchesBatch(t *testing.T) {
	for ci, c := range symCases() {
		for _, kind := range streamJoinKinds {
			for _, batch := range []int{1, 7, 1024} {
				t.Run(fmt.Sprintf("%s/%s/batch%d", c.name, kind, batch), func(t *testing.T) {
					r := rand.New(rand.NewPCG(uint64(ci*1000+batch), uint64(kind)))
					epochs := symEpochs(r, c, 10, 40, 15)
					dlRun(t, c.build(t, kind), []*arrow.Schema{c.left, c.right}, epochs, batch, -1, func(e int, total zset) {
						l, rr := symAccumulate(epochs, e)
						zsetSame(t, fmt.Sprintf("after epoch %d", e), total, symOracle(c, kind, l, rr))
					})
				})
			}
		}
	}
}

// TestSymmetricHashJoinPaddedTransitions spells out the outer-join protocol on a LEFT join: the
// padded row is emitted on arrival, retracted at the first match, re-emitted when the last match
// is retracted, and retracted with its row.
func TestSymmetricHashJoinPaddedTransitions(t *testing.T) {
	ls, rs := opSchema(exec.Int64), opSchema(exec.Int64, exec.String)
	c := symCase{left: ls, right: rs, leftKeys: []int{0}, rightKeys: []int{0}}
	k := func(v int64) []exec.Datum { return []exec.Datum{v} }
	rr := func(v int64, s string) []exec.Datum { return []exec.Datum{v, s} }
	j := func(l []exec.Datum, r []exec.Datum) []exec.Datum {
		if r == nil {
			r = []exec.Datum{nil, nil}
		}
		return append(append([]exec.Datum{}, l...), r...)
	}
	epochs := []dlEpoch{
		{pushes: []dlPush{{0, []wrow{{k(1), 1}, {[]exec.Datum{nil}, 1}}}}},
		{pushes: []dlPush{{1, []wrow{{rr(1, "a"), 1}}}}},
		{pushes: []dlPush{{1, []wrow{{rr(1, "b"), 1}}}}},
		{pushes: []dlPush{{1, []wrow{{rr(1, "a"), -1}}}}},
		{pushes: []dlPush{{1, []wrow{{rr(1, "b"), -1}}}}},
		{pushes: []dlPush{{0, []wrow{{k(1), -1}, {[]exec.Datum{nil}, -1}}}}},
	}
	z := func(rows ...wrow) zset {
		out := zset{}
		for _, r := range rows {
			out.add(r.row, r.w)
		}
		return out
	}
	nullRow := []exec.Datum{nil}
	want := []zset{
		z(wrow{j(k(1), nil), 1}, wrow{j(nullRow, nil), 1}),
		z(wrow{j(k(1), nil), -1}, wrow{j(k(1), rr(1, "a")), 1}),
		z(wrow{j(k(1), rr(1, "b")), 1}),
		z(wrow{j(k(1), rr(1, "a")), -1}),
		z(wrow{j(k(1), rr(1, "b")), -1}, wrow{j(k(1), nil), 1}),
		z(wrow{j(k(1), nil), -1}, wrow{j(nullRow, nil), -1}),
	}
	got := dlRun(t, c.build(t, exec.StreamJoinLeft), []*arrow.Schema{ls, rs}, epochs, 4, -1, nil)
	dlSameEpochs(t, "left join", got, want)
}

// TestSymmetricHashJoinRestore: snapshotting (through IPC) and restoring after any epoch gives
// the same output, epoch by epoch, as an uninterrupted run, for every kind.
func TestSymmetricHashJoinRestore(t *testing.T) {
	c := symCases()[1]
	for _, kind := range streamJoinKinds {
		r := rand.New(rand.NewPCG(9, uint64(kind)))
		epochs := symEpochs(r, c, 6, 50, 15)
		want := dlRun(t, c.build(t, kind), []*arrow.Schema{c.left, c.right}, epochs, 7, -1, nil)
		for k := 0; k < len(epochs); k++ {
			got := dlRun(t, c.build(t, kind), []*arrow.Schema{c.left, c.right}, epochs, 7, k, nil)
			dlSameEpochs(t, fmt.Sprintf("%s restart after epoch %d", kind, k), got, want)
		}
	}
}

// TestSymmetricHashJoinEviction: with JoinEviction the join equals the batch join restricted to
// pairs whose rows were both in state (not evicted) when the second arrived; here bounds trail the
// watermark by two seconds on each side, and the oracle replays that rule row by row.
func TestSymmetricHashJoinEviction(t *testing.T) {
	ls, rs := opSchema(exec.Int64, exec.Timestamp), opSchema(exec.Int64, exec.Timestamp)
	ev := &exec.JoinEviction{LeftTimeCol: 1, RightTimeCol: 1, Bounds: func(wm watermark.Time) (watermark.Time, watermark.Time) {
		return wm - 2_000_000, wm - 2_000_000
	}}
	for _, kind := range streamJoinKinds {
		c := symCase{left: ls, right: rs, leftKeys: []int{0}, rightKeys: []int{0}, evict: ev}
		r := rand.New(rand.NewPCG(5, uint64(kind)))
		// Event times advance with the epochs: epoch e draws times in [e-4, e] seconds, so some
		// rows are late and some state is evicted.
		epochs := make([]dlEpoch, 10)
		for e := range epochs {
			var pushes []dlPush
			for p := 0; p < 4; p++ {
				var rows []wrow
				for k := 0; k < 10; k++ {
					var ts exec.Datum
					if r.IntN(12) > 0 {
						ts = int64(1_700_000_000_000_000 + int64(e-4+r.IntN(5))*1_000_000)
					}
					rows = append(rows, wrow{row: []exec.Datum{int64(r.IntN(5)), ts}, w: 1})
				}
				pushes = append(pushes, dlPush{input: r.IntN(2), rows: rows})
			}
			epochs[e] = dlEpoch{pushes: pushes}
		}
		want := symEvictOracle(kind, epochs, 2_000_000)
		var dropped int64
		got := dlRun(t, func() snapOperator {
			op := c.build(t, kind)()
			return &droppedSpy{snapOperator: op, dropped: &dropped}
		}, []*arrow.Schema{ls, rs}, epochs, 3, 4, nil)
		dlSameEpochs(t, kind.String(), got, want.epochs)
		if dropped != want.late {
			t.Errorf("%s: %d rows dropped as late, oracle says %d", kind, dropped, want.late)
		}
		if want.late == 0 || want.evicted == 0 {
			t.Fatalf("test does not exercise late rows (%d) and eviction (%d)", want.late, want.evicted)
		}
	}
}

// droppedSpy records the join's late-drop counter at Close.
type droppedSpy struct {
	snapOperator
	dropped *int64
}

func (d *droppedSpy) Close() error {
	*d.dropped = d.snapOperator.(*exec.SymmetricHashJoin).DroppedLate()
	return d.snapOperator.Close()
}

type evictResult struct {
	epochs        []zset
	late, evicted int64
}

// symEvictOracle replays the eviction rule row by row: a row below its side's bound is dropped;
// otherwise it joins the other side's surviving rows; at each epoch's end rows below the new bound
// (or with a NULL time, once the bound is finite) leave state without output.
func symEvictOracle(kind exec.StreamJoinKind, epochs []dlEpoch, lag int64) evictResult {
	type st struct {
		row []exec.Datum
		mc  int
	}
	var state [2][]*st
	var res evictResult
	bound := int64(watermark.MinTime)
	outer := [2]bool{kind == exec.StreamJoinLeft || kind == exec.StreamJoinFull, kind == exec.StreamJoinRight || kind == exec.StreamJoinFull}
	for e, ep := range epochs {
		out := zset{}
		joined := func(side int, a, b []exec.Datum) []exec.Datum {
			if side == 1 {
				a, b = b, a
			}
			if a == nil {
				a = []exec.Datum{nil, nil}
			}
			if b == nil {
				b = []exec.Datum{nil, nil}
			}
			return append(append([]exec.Datum{}, a...), b...)
		}
		for _, p := range ep.pushes {
			s := p.input
			for _, w := range p.rows {
				ts := w.row[1]
				if ts != nil && bound > int64(watermark.MinTime) && ts.(int64) < bound {
					res.late++
					continue
				}
				n := &st{row: w.row}
				if w.row[0] != nil {
					for _, o := range state[1-s] {
						if o.row[0] == w.row[0] {
							out.add(joined(s, w.row, o.row), 1)
							n.mc++
							if o.mc == 0 && outer[1-s] {
								out.add(joined(1-s, o.row, nil), -1)
							}
							o.mc++
						}
					}
				}
				if n.mc == 0 && outer[s] {
					out.add(joined(s, w.row, nil), 1)
				}
				if w.row[0] != nil {
					state[s] = append(state[s], n)
				}
			}
		}
		if nb := int64(dlEpochWatermark(e)) - lag; nb > bound {
			bound = nb
			for s := range state {
				var keep []*st
				for _, o := range state[s] {
					if o.row[1] == nil || o.row[1].(int64) < bound {
						res.evicted++
						continue
					}
					keep = append(keep, o)
				}
				state[s] = keep
			}
		}
		res.epochs = append(res.epochs, out)
	}
	return res
}

// TestSymmetricHashJoinChunks: a many-to-many key emits records of at most 64K rows and the right
// total.
func TestSymmetricHashJoinChunks(t *testing.T) {
	ls, rs := opSchema(exec.Int64), opSchema(exec.Int64, exec.Int64)
	ctx, mem := opCtx()
	j, err := exec.NewSymmetricHashJoin(exec.StreamJoinInner, ls, rs, []int{0}, []int{0}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	sink := newDLSink(t, j.Schema())
	var right, left [][]exec.Datum
	for i := 0; i < 400; i++ {
		right = append(right, []exec.Datum{int64(7), int64(i)})
		left = append(left, []exec.Datum{int64(7)})
	}
	for input, rows := range [][][]exec.Datum{right, left} {
		recs := opRecords(t, mem, []*arrow.Schema{rs, ls}[input], rows, 400)
		opPush(t, ctx, j, 1-input, recs, sink.emit)
		opRelease(recs)
	}
	if sink.maxRows > 64*1024 {
		t.Errorf("emitted a record of %d rows", sink.maxRows)
	}
	var n int64
	for _, e := range sink.total {
		n += e.w
	}
	if n != 400*400 {
		t.Errorf("emitted %d join rows, want %d", n, 400*400)
	}
	// An insert-only side stores each pushed row (400 equal left rows); retracting them all
	// (the first retraction makes the side merge equal rows) empties it and the output.
	if l, r := j.StateRowsBySide(); l != 400 || r != 400 {
		t.Errorf("state rows %d/%d, want 400 and 400", l, r)
	}
	var minus []wrow
	for range left {
		minus = append(minus, wrow{[]exec.Datum{int64(7)}, -1})
	}
	ds := dlDeltas(t, mem, ls, minus, 7)
	for _, d := range ds {
		if err := j.Push(ctx, 0, d, sink.emit); err != nil {
			t.Fatal(err)
		}
	}
	dlRelease(ds)
	n = 0
	for _, e := range sink.total {
		n += e.w
	}
	if l, r := j.StateRowsBySide(); n != 0 || l != 0 || r != 400 {
		t.Errorf("after retracting the left rows: %d join rows, state rows %d/%d, want 0, 0 and 400", n, l, r)
	}
	j.Close()
	opAssertNoLeak(t, mem)
}

// TestSymmetricHashJoinBadInput: malformed deltas, schemas and snapshots are errors, not panics.
func TestSymmetricHashJoinBadInput(t *testing.T) {
	ls, rs := opSchema(exec.Int64), opSchema(exec.String)
	if _, err := exec.NewSymmetricHashJoin(exec.StreamJoinInner, ls, rs, []int{0}, []int{0}, nil, nil); err == nil || !strings.Contains(err.Error(), "types differ") {
		t.Errorf("mismatched key types: %v", err)
	}
	if _, err := exec.NewSymmetricHashJoin(exec.StreamJoinInner, ls, ls, []int{0}, []int{0}, nil,
		&exec.JoinEviction{LeftTimeCol: 0, RightTimeCol: -1}); err == nil {
		t.Errorf("eviction without Bounds accepted")
	}
	strs := opSchema(exec.String)
	if _, err := exec.NewSymmetricHashJoin(exec.StreamJoinInner, strs, strs, []int{0}, []int{0}, nil,
		&exec.JoinEviction{LeftTimeCol: 0, RightTimeCol: -1, Bounds: func(watermark.Time) (watermark.Time, watermark.Time) { return 0, 0 }}); err == nil {
		t.Errorf("VARCHAR event-time column accepted")
	}
	ctx, mem := opCtx()
	j, err := exec.NewSymmetricHashJoin(exec.StreamJoinFull, ls, ls, []int{0}, []int{0}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := opRecord(t, mem, ls, [][]exec.Datum{{int64(1)}, {int64(2)}})
	b := array.NewInt64Builder(mem)
	b.Append(1)
	short := b.NewInt64Array()
	b.Release()
	noop := func(exec.Delta) error { return nil }
	if err := j.Push(ctx, 0, exec.Delta{Rec: rec, Weights: short}, noop); err == nil {
		t.Errorf("short weights accepted")
	}
	if err := j.Push(ctx, 2, exec.Delta{Rec: rec}, noop); err == nil {
		t.Errorf("input 2 accepted")
	}
	other, _ := exec.NewSymmetricHashJoin(exec.StreamJoinInner, ls, ls, []int{0}, []int{0}, nil, nil)
	_, recs, err := other.SnapshotState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.RestoreState(ctx, recs); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("snapshot of an INNER join restored into a FULL join: %v", err)
	}
	opRelease(recs)
	j.Close()
	other.Close()
	rec.Release()
	short.Release()
	opAssertNoLeak(t, mem)
}

// TestSymmetricHashJoinCompaction: after most rows of both sides are retracted the join copies
// the survivors out of the mostly dead input records (memory falls) and stays correct, for every
// kind, across a restore.
func TestSymmetricHashJoinCompaction(t *testing.T) {
	c := symCase{left: opSchema(exec.Int64, exec.Int64), right: opSchema(exec.Int64, exec.String, exec.Int64),
		leftKeys: []int{0}, rightKeys: []int{0}}
	for _, kind := range streamJoinKinds {
		r := rand.New(rand.NewPCG(21, uint64(kind)))
		seq := int64(0)
		gen := func(s *arrow.Schema) func() []exec.Datum {
			return func() []exec.Datum {
				seq++
				row := symRandRow(r, s, 10)
				if row[0] != nil {
					row[0] = seq % 3000
				}
				row[len(row)-1] = seq
				return row
			}
		}
		ls := dlCompactionEpochs(r, 8000, gen(c.left))
		rs := dlCompactionEpochs(r, 8000, gen(c.right))
		epochs := make([]dlEpoch, len(ls))
		for e := range epochs {
			epochs[e] = dlEpoch{pushes: []dlPush{{0, ls[e]}, {1, rs[e]}}}
		}
		var allocs []int
		dlRunAlloc(t, c.build(t, kind), []*arrow.Schema{c.left, c.right}, epochs, 1024, 2, func(e int, total zset) {
			l, rr := symAccumulate(epochs, e)
			zsetSame(t, fmt.Sprintf("%s after epoch %d", kind, e), total, symOracle(c, kind, l, rr))
		}, &allocs)
		dlAssertCompacted(t, allocs)
	}
}

// TestSymmetricHashJoinEvictionAfterRetraction: a row retracted to nothing leaves its entry's
// place in the eviction queue behind; the entry reused by a later row must not be evicted with
// the old row's time, and the join must keep matching the later row.
func TestSymmetricHashJoinEvictionAfterRetraction(t *testing.T) {
	ls, rs := opSchema(exec.Int64, exec.Timestamp), opSchema(exec.Int64, exec.Timestamp)
	const sec = 1_000_000
	base := int64(1_700_000_000_000_000)
	ev := &exec.JoinEviction{LeftTimeCol: 1, RightTimeCol: -1, Bounds: func(wm watermark.Time) (watermark.Time, watermark.Time) {
		return wm, watermark.MinTime
	}}
	ctx, mem := opCtx()
	j, err := exec.NewSymmetricHashJoin(exec.StreamJoinInner, ls, rs, []int{0}, []int{0}, nil, ev)
	if err != nil {
		t.Fatal(err)
	}
	sink := newDLSink(t, j.Schema())
	push := func(input int, rows []wrow) {
		t.Helper()
		ds := dlDeltas(t, mem, []*arrow.Schema{ls, rs}[input], rows, 1)
		for _, d := range ds {
			if err := j.Push(ctx, input, d, sink.emit); err != nil {
				t.Fatal(err)
			}
		}
		dlRelease(ds)
	}
	old := []exec.Datum{int64(1), base}
	later := []exec.Datum{int64(1), base + 100*sec}
	push(0, []wrow{{old, 1}})
	push(0, []wrow{{old, -1}})
	push(0, []wrow{{later, 1}})
	if err := j.Flush(ctx, watermark.Time(base+50*sec), sink.emit); err != nil {
		t.Fatal(err)
	}
	if l, _ := j.StateRowsBySide(); l != 1 {
		t.Fatalf("left state rows after eviction at +50 s: %d, want 1 (the row at +100 s)", l)
	}
	push(1, []wrow{{[]exec.Datum{int64(1), base}, 1}})
	sink.takeEpoch()
	want := zset{}
	want.add(append(append([]exec.Datum{}, later...), int64(1), base), 1)
	zsetSame(t, "join after the eviction", sink.total, want)
	if err := j.Flush(ctx, watermark.Time(base+101*sec), sink.emit); err != nil {
		t.Fatal(err)
	}
	if l, _ := j.StateRowsBySide(); l != 0 {
		t.Errorf("left state rows after eviction at +101 s: %d, want 0", l)
	}
	j.Close()
	opAssertNoLeak(t, mem)
}
