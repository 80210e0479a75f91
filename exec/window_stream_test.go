package exec_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
)

// streamWindowCase is one window specification over rows (k VARCHAR, o BIGINT, v BIGINT).
type streamWindowCase struct {
	name      string
	partition []int
	order     []exec.SortKey
	funcs     []exec.WindowFunc
}

func streamWindowCases() []streamWindowCase {
	unb := exec.FrameBound{Unbounded: true}
	rows := func(s, e int64) exec.WindowFrame {
		return exec.WindowFrame{Rows: true, Start: exec.FrameBound{Offset: s}, End: exec.FrameBound{Offset: e}}
	}
	return []streamWindowCase{
		{
			// Ordered by every column that is not a partition column: rows ordered equal are
			// equal rows, so every function's multiset of results is determined.
			name: "partitioned", partition: []int{0}, order: []exec.SortKey{{Col: 1}, {Col: 2, Desc: true, NullsFirst: true}},
			funcs: []exec.WindowFunc{
				{Name: "row_number", Arg: -1, Def: -1, Type: exec.Int64},
				{Name: "rank", Arg: -1, Def: -1, Type: exec.Int64},
				{Name: "dense_rank", Arg: -1, Def: -1, Type: exec.Int64},
				{Name: "ntile", Arg: -1, Def: -1, N: 3, Type: exec.Int64},
				{Name: "lag", Arg: 2, Def: -1, N: 1, Type: exec.Int64},
				{Name: "lead", Arg: 2, Def: 1, N: 2, Type: exec.Int64},
				{Name: "sum", Arg: 2, Def: -1, Type: exec.Int64},
				{Name: "count", Arg: -1, Def: -1, Type: exec.Int64, Frame: exec.WindowFrame{Rows: true, Start: unb, End: unb}},
				{Name: "max", Arg: 2, Def: -1, Type: exec.Int64, Frame: rows(-1, 0)},
				{Name: "first_value", Arg: 2, Def: -1, Type: exec.Int64},
				{Name: "last_value", Arg: 2, Def: -1, Type: exec.Int64, Frame: exec.WindowFrame{Rows: true, Start: unb, End: unb}},
				{Name: "avg", Arg: 2, Def: -1, Type: exec.Float64, Frame: rows(0, 1)},
			},
		},
		{
			// One partition, ORDER BY with ties between different rows: only functions whose
			// results do not depend on the order among peers.
			name: "global", order: []exec.SortKey{{Col: 1}},
			funcs: []exec.WindowFunc{
				{Name: "rank", Arg: -1, Def: -1, Type: exec.Int64},
				{Name: "dense_rank", Arg: -1, Def: -1, Type: exec.Int64},
				{Name: "sum", Arg: 2, Def: -1, Type: exec.Int64},
				{Name: "count", Arg: 2, Def: -1, Type: exec.Int64},
				{Name: "min", Arg: 0, Def: -1, Type: exec.String, Frame: exec.WindowFrame{Rows: true, Start: unb, End: unb}},
			},
		},
		{
			name: "unordered", partition: []int{0, 1},
			funcs: []exec.WindowFunc{
				{Name: "count", Arg: -1, Def: -1, Type: exec.Int64},
				{Name: "avg", Arg: 2, Def: -1, Type: exec.Float64},
				{Name: "max", Arg: 2, Def: -1, Type: exec.Int64},
			},
		},
	}
}

func streamWindowEpochs(seed uint64, epochs, perEpoch int) []dlEpoch {
	r := rand.New(rand.NewPCG(seed, 11))
	gen := func() []exec.Datum {
		row := []exec.Datum{[]exec.Datum{"a", "b", "c", nil}[r.IntN(4)], int64(r.IntN(6)), int64(r.IntN(10))}
		if r.IntN(8) == 0 {
			row[2] = nil
		}
		return row
	}
	rows := dlRandEpochs(r, epochs, perEpoch, gen)
	out := make([]dlEpoch, len(rows))
	for e, rs := range rows {
		out[e] = dlEpoch{pushes: []dlPush{{input: 0, rows: rs}}}
	}
	return out
}

// streamWindowOracle is the batch answer: the batch Window over every row pushed so far.
func streamWindowOracle(t *testing.T, c streamWindowCase, s *arrow.Schema, epochs []dlEpoch, upTo int) zset {
	acc := zset{}
	for _, ep := range epochs[:upTo+1] {
		for _, p := range ep.pushes {
			for _, w := range p.rows {
				acc.add(w.row, w.w)
			}
		}
	}
	var rows [][]exec.Datum
	for _, e := range acc {
		for k := int64(0); k < e.w; k++ {
			rows = append(rows, e.row)
		}
	}
	op, err := exec.NewWindow(s, c.partition, c.order, c.funcs)
	if err != nil {
		t.Fatal(err)
	}
	return zsetOf(opRunUnary(t, op, s, rows, 64))
}

// TestStreamWindowMatchesBatch: after every epoch the integral of the streaming window's output
// equals the batch window over everything pushed so far, with NULLs, duplicates and retractions
// (some before their insertions), at several batch sizes, and across a snapshot and restore.
func TestStreamWindowMatchesBatch(t *testing.T) {
	s := opSchema(exec.String, exec.Int64, exec.Int64)
	for _, c := range streamWindowCases() {
		for _, batch := range []int{1, 7, 1024} {
			for _, restart := range []int{-1, 3} {
				t.Run(fmt.Sprintf("%s/batch%d/restart%d", c.name, batch, restart), func(t *testing.T) {
					epochs := streamWindowEpochs(uint64(batch*10+restart+2), 8, 25)
					mk := func() snapOperator {
						op, err := exec.NewStreamWindow(s, c.partition, c.order, c.funcs)
						if err != nil {
							t.Fatal(err)
						}
						return op
					}
					dlRun(t, mk, []*arrow.Schema{s}, epochs, batch, restart, func(e int, total zset) {
						zsetSame(t, fmt.Sprintf("after epoch %d", e), total, streamWindowOracle(t, c, s, epochs, e))
					})
				})
			}
		}
	}
}

// TestStreamWindowEmitsTheDifference: an epoch re-evaluates only the partitions it touched and
// emits only the output rows that changed.
func TestStreamWindowEmitsTheDifference(t *testing.T) {
	s := opSchema(exec.String, exec.Int64, exec.Int64)
	funcs := []exec.WindowFunc{{Name: "sum", Arg: 2, Def: -1, Type: exec.Int64}} // running sum by o
	row := func(k string, o, v int64) []exec.Datum { return []exec.Datum{k, o, v} }
	out := func(k string, o, v, sum int64) []exec.Datum { return []exec.Datum{k, o, v, sum} }
	epochs := []dlEpoch{
		{pushes: []dlPush{{rows: []wrow{{row("a", 1, 10), 1}, {row("a", 2, 20), 1}, {row("b", 1, 5), 1}}}}},
		// Appended at the end of a: the earlier rows' sums stand; b is untouched.
		{pushes: []dlPush{{rows: []wrow{{row("a", 3, 30), 1}}}}},
		// Inserted at the front of a: every later running sum changes.
		{pushes: []dlPush{{rows: []wrow{{row("a", 0, 1), 1}}}}},
		// Inserted and retracted within the epoch: nothing.
		{pushes: []dlPush{{rows: []wrow{{row("b", 9, 9), 1}, {row("b", 9, 9), -1}}}}},
		// The last row of b goes: its output row is retracted.
		{pushes: []dlPush{{rows: []wrow{{row("b", 1, 5), -1}}}}},
	}
	mk := func() snapOperator {
		op, err := exec.NewStreamWindow(s, []int{0}, []exec.SortKey{{Col: 1}}, funcs)
		if err != nil {
			t.Fatal(err)
		}
		return op
	}
	got := dlRun(t, mk, []*arrow.Schema{s}, epochs, 2, -1, nil)
	want := []zset{
		zsetOf([][]exec.Datum{out("a", 1, 10, 10), out("a", 2, 20, 30), out("b", 1, 5, 5)}),
		zsetOf([][]exec.Datum{out("a", 3, 30, 60)}),
		{},
		{},
		{},
	}
	for _, r := range [][]exec.Datum{out("a", 1, 10, 10), out("a", 2, 20, 30), out("a", 3, 30, 60)} {
		want[2].add(r, -1)
	}
	for _, r := range [][]exec.Datum{out("a", 0, 1, 1), out("a", 1, 10, 11), out("a", 2, 20, 31), out("a", 3, 30, 61)} {
		want[2].add(r, 1)
	}
	want[4].add(out("b", 1, 5, 5), -1)
	dlSameEpochs(t, "running sum", got, want)
}

// TestStreamWindowRestoreRefusesOtherQuery: a snapshot of a window with other functions does
// not load.
func TestStreamWindowRestoreRefusesOtherQuery(t *testing.T) {
	s := opSchema(exec.String, exec.Int64, exec.Int64)
	ctx, mem := opCtx()
	a, err := exec.NewStreamWindow(s, []int{0}, nil, []exec.WindowFunc{{Name: "count", Arg: -1, Def: -1, Type: exec.Int64}})
	if err != nil {
		t.Fatal(err)
	}
	schema, recs, err := a.SnapshotState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := exec.NewStreamWindow(s, []int{1}, nil, []exec.WindowFunc{{Name: "count", Arg: -1, Def: -1, Type: exec.Int64}})
	if err != nil {
		t.Fatal(err)
	}
	back := ipcRoundTrip(t, mem, schema, recs)
	if err := b.RestoreState(ctx, back); err == nil {
		t.Errorf("a snapshot of another partitioning was restored")
	}
	opRelease(recs)
	opRelease(back)
	a.Close()
	b.Close()
	opAssertNoLeak(t, mem)
}
