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

func distinctEpochs(seed uint64, epochs, perEpoch int, types []arrow.DataType) []dlEpoch {
	r := rand.New(rand.NewPCG(seed, 7))
	rows := dlRandEpochs(r, epochs, perEpoch, func() []exec.Datum { return opRandRows(r, 1, 20, types...)[0] })
	out := make([]dlEpoch, len(rows))
	for e, rs := range rows {
		out[e] = dlEpoch{pushes: []dlPush{{input: 0, rows: rs}}}
	}
	return out
}

// distinctOracle is the batch answer: each row whose accumulated count is positive, once.
func distinctOracle(epochs []dlEpoch, upTo int) zset {
	acc := zset{}
	for _, ep := range epochs[:upTo+1] {
		for _, p := range ep.pushes {
			for _, w := range p.rows {
				acc.add(w.row, w.w)
			}
		}
	}
	out := zset{}
	for _, e := range acc {
		if e.w > 0 {
			out.add(e.row, 1)
		}
	}
	return out
}

// TestStreamDistinctMatchesBatch: after every epoch the integral of DISTINCT's output equals
// DISTINCT over everything pushed so far, with NULLs, -0.0/NaN, duplicates and retractions.
func TestStreamDistinctMatchesBatch(t *testing.T) {
	typeSets := [][]arrow.DataType{
		{exec.Int64},
		{exec.Int64, exec.String},
		{exec.Float64, exec.Bool, opDecimal},
		{exec.Timestamp, exec.Date, exec.String},
	}
	for ti, types := range typeSets {
		s := opSchema(types...)
		for _, batch := range []int{1, 7, 1024} {
			t.Run(fmt.Sprintf("types%d/batch%d", ti, batch), func(t *testing.T) {
				epochs := distinctEpochs(uint64(ti*100+batch), 12, 60, types)
				mk := func() snapOperator {
					op, err := exec.NewStreamDistinct(s)
					if err != nil {
						t.Fatal(err)
					}
					return op
				}
				dlRun(t, mk, []*arrow.Schema{s}, epochs, batch, -1, func(e int, total zset) {
					zsetSame(t, fmt.Sprintf("after epoch %d", e), total, distinctOracle(epochs, e))
				})
			})
		}
	}
}

// TestStreamDistinctEmitsOnlyTransitions: each epoch emits +1 for a row that appeared and -1 for
// one that disappeared, nothing for a row whose presence did not change.
func TestStreamDistinctEmitsOnlyTransitions(t *testing.T) {
	s := opSchema(exec.Int64)
	row := func(v int64) []exec.Datum { return []exec.Datum{v} }
	epochs := []dlEpoch{
		{pushes: []dlPush{{rows: []wrow{{row(1), 1}, {row(1), 1}, {row(2), 1}, {[]exec.Datum{nil}, 1}}}}},
		{pushes: []dlPush{{rows: []wrow{{row(1), -1}, {row(2), -1}, {row(3), 1}, {row(3), -1}}}}},
		{pushes: []dlPush{{rows: []wrow{{row(1), -1}, {row(4), -1}}}}},
		{pushes: []dlPush{{rows: []wrow{{row(4), 2}}}}},
	}
	want := []zset{
		zsetOf([][]exec.Datum{row(1), row(2), {nil}}),
		{},
		{},
		zsetOf([][]exec.Datum{row(4)}),
	}
	want[1].add(row(2), -1)
	want[2].add(row(1), -1)
	mk := func() snapOperator { op, _ := exec.NewStreamDistinct(s); return op }
	got := dlRun(t, mk, []*arrow.Schema{s}, epochs, 2, -1, nil)
	dlSameEpochs(t, "distinct", got, want)
}

// TestStreamDistinctRestore: a run snapshotted (through IPC) and restored after any epoch emits
// exactly what an uninterrupted run emits.
func TestStreamDistinctRestore(t *testing.T) {
	types := []arrow.DataType{exec.Int64, exec.String, exec.Float64}
	s := opSchema(types...)
	epochs := distinctEpochs(42, 8, 80, types)
	mk := func() snapOperator { op, _ := exec.NewStreamDistinct(s); return op }
	want := dlRun(t, mk, []*arrow.Schema{s}, epochs, 7, -1, nil)
	for k := 0; k < len(epochs); k++ {
		got := dlRun(t, mk, []*arrow.Schema{s}, epochs, 7, k, nil)
		dlSameEpochs(t, fmt.Sprintf("restart after epoch %d", k), got, want)
	}
}

// TestStreamDistinctBadInput: malformed weights and snapshots are errors, not panics.
func TestStreamDistinctBadInput(t *testing.T) {
	ctx, mem := opCtx()
	s := opSchema(exec.Int64)
	op, err := exec.NewStreamDistinct(s)
	if err != nil {
		t.Fatal(err)
	}
	rec := opRecord(t, mem, s, [][]exec.Datum{{int64(1)}, {int64(2)}})
	b := array.NewInt64Builder(mem)
	b.Append(1)
	short := b.NewInt64Array()
	b.AppendValues([]int64{1, 2}, []bool{true, false})
	nulls := b.NewInt64Array()
	b.Release()
	noop := func(exec.Delta) error { return nil }
	if err := op.Push(ctx, 0, exec.Delta{Rec: rec, Weights: short}, noop); err == nil || !strings.Contains(err.Error(), "weights") {
		t.Errorf("short weights: %v", err)
	}
	if err := op.Push(ctx, 0, exec.Delta{Rec: rec, Weights: nulls}, noop); err == nil || !strings.Contains(err.Error(), "NULL weight") {
		t.Errorf("NULL weight: %v", err)
	}
	if err := op.Push(ctx, 1, exec.Delta{Rec: rec}, noop); err == nil {
		t.Errorf("input 1 accepted")
	}
	// A snapshot of another operator is refused.
	other, _ := exec.NewStreamDistinct(opSchema(exec.String))
	_ = other.Flush(ctx, watermark.MaxTime, noop)
	sch, recs, err := other.SnapshotState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = sch
	fresh, _ := exec.NewStreamDistinct(s)
	if err := fresh.RestoreState(ctx, recs); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("foreign snapshot: %v", err)
	}
	opRelease(recs)
	for _, x := range []exec.Operator{op, other, fresh} {
		x.Close()
	}
	rec.Release()
	short.Release()
	nulls.Release()
	opAssertNoLeak(t, mem)
}

// TestStreamDistinctCompaction: after most rows are retracted the operator copies the survivors
// out of the mostly dead input records (memory falls), and stays correct afterwards.
func TestStreamDistinctCompaction(t *testing.T) {
	types := []arrow.DataType{exec.Int64, exec.String, exec.Int64}
	s := opSchema(types...)
	r := rand.New(rand.NewPCG(11, 12))
	seq := int64(0)
	gen := func() []exec.Datum {
		seq++
		row := opRandRows(r, 1, 10, types...)[0]
		row[2] = seq % 5000 // mostly distinct rows
		return row
	}
	rows := dlCompactionEpochs(r, 20000, gen)
	epochs := make([]dlEpoch, len(rows))
	for e, rs := range rows {
		epochs[e] = dlEpoch{pushes: []dlPush{{rows: rs}}}
	}
	mk := func() snapOperator { op, _ := exec.NewStreamDistinct(s); return op }
	var allocs []int
	dlRunAlloc(t, mk, []*arrow.Schema{s}, epochs, 1024, 2, func(e int, total zset) {
		zsetSame(t, fmt.Sprintf("after epoch %d", e), total, distinctOracle(epochs, e))
	}, &allocs)
	dlAssertCompacted(t, allocs)
}
