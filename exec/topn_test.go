package exec_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/watermark"
)

type topNCase struct {
	name          string
	types         []arrow.DataType
	part          []int
	keys          []exec.SortKey
	limit, offset int64
}

func (c topNCase) build(t testing.TB) func() snapOperator {
	return func() snapOperator {
		op, err := exec.NewTopN(opSchema(c.types...), c.part, c.keys, c.limit, c.offset)
		if err != nil {
			t.Fatal(err)
		}
		return op
	}
}

// topNCompare is the oracle's row order: the keys with SQL NULL placement, then the whole row
// ascending with NULLs last.
func topNCompare(keys []exec.SortKey, a, b []exec.Datum) int {
	cell := func(x, y exec.Datum, desc, nullsFirst bool) int {
		switch {
		case x == nil && y == nil:
			return 0
		case x == nil:
			if nullsFirst {
				return -1
			}
			return 1
		case y == nil:
			if nullsFirst {
				return 1
			}
			return -1
		}
		r := opCompare(x, y)
		if desc {
			r = -r
		}
		return r
	}
	for _, k := range keys {
		if r := cell(a[k.Col], b[k.Col], k.Desc, k.NullsFirst); r != 0 {
			return r
		}
	}
	for i := range a {
		if r := cell(a[i], b[i], false, false); r != 0 {
			return r
		}
	}
	return 0
}

// topNOracle is the batch answer over the accumulated multiset: per partition, its rows (copies
// expanded) sorted, positions offset..offset+limit-1.
func topNOracle(c topNCase, acc zset) zset {
	parts := map[string][][]exec.Datum{}
	for _, e := range acc {
		if e.w <= 0 {
			continue
		}
		pk := make([]exec.Datum, len(c.part))
		for i, p := range c.part {
			pk[i] = e.row[p]
		}
		k := dlNormKey(pk)
		for n := int64(0); n < e.w; n++ {
			parts[k] = append(parts[k], e.row)
		}
	}
	out := zset{}
	for _, rows := range parts {
		slices.SortFunc(rows, func(a, b []exec.Datum) int { return topNCompare(c.keys, a, b) })
		lo := min(int64(len(rows)), c.offset)
		hi := int64(len(rows))
		if c.limit >= 0 {
			hi = min(hi, lo+c.limit)
		}
		for _, r := range rows[lo:hi] {
			out.add(r, 1)
		}
	}
	return out
}

func topNCases() []topNCase {
	return []topNCase{
		{name: "global-asc", types: []arrow.DataType{exec.Int64, exec.String}, keys: []exec.SortKey{{Col: 0}}, limit: 3},
		{name: "global-desc-offset", types: []arrow.DataType{exec.Float64, exec.Int64}, keys: []exec.SortKey{{Col: 0, Desc: true, NullsFirst: true}}, limit: 4, offset: 2},
		{name: "partitioned", types: []arrow.DataType{exec.String, exec.Int64, exec.Timestamp}, part: []int{0},
			keys: []exec.SortKey{{Col: 2, Desc: true, NullsFirst: true}, {Col: 1}}, limit: 2},
		{name: "two-partition-cols-nulls-first-asc", types: []arrow.DataType{exec.Int64, exec.Bool, opDecimal, exec.Date}, part: []int{0, 1},
			keys: []exec.SortKey{{Col: 2, NullsFirst: true}}, limit: 1, offset: 1},
		{name: "offset-only", types: []arrow.DataType{exec.Int64}, keys: []exec.SortKey{{Col: 0}}, limit: -1, offset: 3},
		{name: "limit-0", types: []arrow.DataType{exec.Int64}, keys: []exec.SortKey{{Col: 0}}, limit: 0},
	}
}

func topNEpochs(seed uint64, c topNCase, epochs, perEpoch int) []dlEpoch {
	r := rand.New(rand.NewPCG(seed, 3))
	s := opSchema(c.types...)
	rows := dlRandEpochs(r, epochs, perEpoch, func() []exec.Datum { return symRandRow(r, s, 15) })
	out := make([]dlEpoch, len(rows))
	for e, rs := range rows {
		out[e] = dlEpoch{pushes: []dlPush{{input: 0, rows: rs}}}
	}
	return out
}

// TestTopNMatchesBatch: after every epoch the integral of the top-N's output equals the batch
// top-N of everything pushed so far, with NULLs, duplicates (the cut falling inside a run of
// copies), retractions that bring rows back from below the cut, partitions, offsets and both
// directions.
func TestTopNMatchesBatch(t *testing.T) {
	for ci, c := range topNCases() {
		for _, batch := range []int{1, 7, 1024} {
			t.Run(fmt.Sprintf("%s/batch%d", c.name, batch), func(t *testing.T) {
				epochs := topNEpochs(uint64(ci*100+batch), c, 12, 50)
				s := opSchema(c.types...)
				dlRun(t, c.build(t), []*arrow.Schema{s}, epochs, batch, -1, func(e int, total zset) {
					acc := zset{}
					for _, ep := range epochs[:e+1] {
						for _, w := range ep.pushes[0].rows {
							acc.add(w.row, w.w)
						}
					}
					zsetSame(t, fmt.Sprintf("after epoch %d", e), total, topNOracle(c, acc))
				})
			})
		}
	}
}

// TestTopNRestore: snapshotting (through IPC) and restoring after any epoch gives the same output,
// epoch by epoch, as an uninterrupted run.
func TestTopNRestore(t *testing.T) {
	for _, c := range topNCases()[1:3] {
		epochs := topNEpochs(77, c, 8, 60)
		s := opSchema(c.types...)
		want := dlRun(t, c.build(t), []*arrow.Schema{s}, epochs, 7, -1, nil)
		for k := 0; k < len(epochs); k++ {
			got := dlRun(t, c.build(t), []*arrow.Schema{s}, epochs, 7, k, nil)
			dlSameEpochs(t, fmt.Sprintf("%s restart after epoch %d", c.name, k), got, want)
		}
	}
}

// TestTopNRetractsWhatFallsOut spells out one partition of a top-2: a better row pushes the worst
// out (retracted), retracting it brings the old row back.
func TestTopNRetractsWhatFallsOut(t *testing.T) {
	c := topNCase{types: []arrow.DataType{exec.Int64}, keys: []exec.SortKey{{Col: 0, Desc: true, NullsFirst: true}}, limit: 2}
	v := func(x int64) []exec.Datum { return []exec.Datum{x} }
	z := func(rows ...wrow) zset {
		out := zset{}
		for _, r := range rows {
			out.add(r.row, r.w)
		}
		return out
	}
	epochs := []dlEpoch{
		{pushes: []dlPush{{rows: []wrow{{v(1), 1}, {v(5), 1}, {v(3), 1}}}}},
		{pushes: []dlPush{{rows: []wrow{{v(9), 1}}}}},
		{pushes: []dlPush{{rows: []wrow{{v(9), -1}}}}},
		{pushes: []dlPush{{rows: []wrow{{[]exec.Datum{nil}, 1}, {v(2), 1}}}}},
		{pushes: []dlPush{{rows: []wrow{{v(4), 1}, {v(4), -1}}}}},
	}
	want := []zset{
		z(wrow{v(5), 1}, wrow{v(3), 1}),
		z(wrow{v(9), 1}, wrow{v(3), -1}),
		z(wrow{v(9), -1}, wrow{v(3), 1}),
		z(wrow{[]exec.Datum{nil}, 1}, wrow{v(3), -1}), // DESC puts NULL first
		{},
	}
	got := dlRun(t, c.build(t), []*arrow.Schema{opSchema(exec.Int64)}, epochs, 2, -1, nil)
	dlSameEpochs(t, "top-2", got, want)
}

// TestTopNBadInput: bad parameters, weights and snapshots are errors, not panics.
func TestTopNBadInput(t *testing.T) {
	s := opSchema(exec.Int64)
	if _, err := exec.NewTopN(s, nil, nil, 1, 0); err == nil {
		t.Errorf("no keys accepted")
	}
	if _, err := exec.NewTopN(s, nil, []exec.SortKey{{Col: 0}}, 1, -1); err == nil || !strings.Contains(err.Error(), "OFFSET") {
		t.Errorf("negative offset: %v", err)
	}
	if _, err := exec.NewTopN(s, []int{3}, []exec.SortKey{{Col: 0}}, 1, 0); err == nil {
		t.Errorf("partition column out of range accepted")
	}
	ctx, mem := opCtx()
	a, _ := exec.NewTopN(s, nil, []exec.SortKey{{Col: 0}}, 1, 0)
	b, _ := exec.NewTopN(s, nil, []exec.SortKey{{Col: 0}}, 2, 0)
	noop := func(exec.Delta) error { return nil }
	_ = a.Flush(ctx, watermark.MaxTime, noop)
	sch, recs, err := a.SnapshotState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = sch
	if err := b.RestoreState(ctx, recs); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("snapshot of a top-1 restored into a top-2: %v", err)
	}
	opRelease(recs)
	a.Close()
	b.Close()
	opAssertNoLeak(t, mem)
}

// TestTopNCompaction: after most rows are retracted the top-N copies the survivors out of the
// mostly dead input records (memory falls) and stays correct, across a restore.
func TestTopNCompaction(t *testing.T) {
	c := topNCase{types: []arrow.DataType{exec.Int64, exec.Int64}, part: []int{0}, keys: []exec.SortKey{{Col: 1, Desc: true, NullsFirst: true}}, limit: 3}
	s := opSchema(c.types...)
	r := rand.New(rand.NewPCG(31, 32))
	seq := int64(0)
	gen := func() []exec.Datum {
		seq++
		return []exec.Datum{int64(r.IntN(50)), seq}
	}
	rows := dlCompactionEpochs(r, 20000, gen)
	epochs := make([]dlEpoch, len(rows))
	for e, rs := range rows {
		epochs[e] = dlEpoch{pushes: []dlPush{{rows: rs}}}
	}
	var allocs []int
	dlRunAlloc(t, c.build(t), []*arrow.Schema{s}, epochs, 1024, 2, func(e int, total zset) {
		acc := zset{}
		for _, ep := range epochs[:e+1] {
			for _, w := range ep.pushes[0].rows {
				acc.add(w.row, w.w)
			}
		}
		zsetSame(t, fmt.Sprintf("after epoch %d", e), total, topNOracle(c, acc))
	}, &allocs)
	dlAssertCompacted(t, allocs)
}

// TestTopNLargePartition: one partition of thousands of rows (many sorted blocks, split and
// emptied as rows come and go) with the cut deep inside it.
func TestTopNLargePartition(t *testing.T) {
	c := topNCase{types: []arrow.DataType{exec.Int64, exec.Int64}, keys: []exec.SortKey{{Col: 1}}, limit: 7, offset: 900}
	s := opSchema(c.types...)
	r := rand.New(rand.NewPCG(41, 42))
	rows := dlRandEpochs(r, 8, 1500, func() []exec.Datum { return []exec.Datum{int64(r.IntN(3)), int64(r.IntN(5000))} })
	epochs := make([]dlEpoch, len(rows))
	for e, rs := range rows {
		epochs[e] = dlEpoch{pushes: []dlPush{{rows: rs}}}
	}
	dlRun(t, c.build(t), []*arrow.Schema{s}, epochs, 1024, 3, func(e int, total zset) {
		acc := zset{}
		for _, ep := range epochs[:e+1] {
			for _, w := range ep.pushes[0].rows {
				acc.add(w.row, w.w)
			}
		}
		zsetSame(t, fmt.Sprintf("after epoch %d", e), total, topNOracle(c, acc))
	})
}
