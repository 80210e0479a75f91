package exec_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/watermark"
)

// limitOracle is rows[offset : offset+count] clamped to the input; count < 0 means no limit.
func limitOracle(rows [][]exec.Datum, count, offset int64) [][]exec.Datum {
	n := int64(len(rows))
	lo := min(offset, n)
	hi := n
	if count >= 0 && count < n-lo {
		hi = lo + count
	}
	return rows[lo:hi]
}

func TestLimitAgainstOracle(t *testing.T) {
	types := []arrow.DataType{exec.Int64, exec.String, exec.Float64}
	in := opSchema(types...)
	rows := opRandRows(rand.New(rand.NewPCG(5, 6)), 300, 20, types...)
	for i := range rows {
		rows[i][0] = int64(i) // row identity, so order is checked too
	}
	cases := []struct{ count, offset int64 }{
		{0, 0}, {0, 10}, {-1, 0}, {-1, 5}, {-1, 300}, {5, 0}, {5, 3}, {10, 295}, {10, 1000},
		{1, 299}, {300, 0}, {301, 0}, {math.MaxInt64, 0}, {math.MaxInt64, 7}, {20, 6}, {3, math.MaxInt64},
	}
	for _, c := range cases {
		want := limitOracle(rows, c.count, c.offset)
		for _, batch := range opBatchSizes {
			t.Run(fmt.Sprintf("count=%d/offset=%d/batch=%d", c.count, c.offset, batch), func(t *testing.T) {
				l := exec.NewLimit(in, c.count, c.offset)
				got := opRunUnary(t, l, in, rows, batch)
				opSameRows(t, "limit", got, want)
			})
		}
	}
}

// TestLimitEmptyAndZeroRowRecords: zero-row records neither count nor emit, and a limit over no
// input is not Done unless its count is 0.
func TestLimitEmptyAndZeroRowRecords(t *testing.T) {
	in := opSchema(exec.Int64)
	ctx, mem := opCtx()
	l := exec.NewLimit(in, 2, 1)
	if l.Done() {
		t.Fatal("LIMIT 2 is done before any input")
	}
	empty := opRecord(t, mem, in, nil)
	one := opRecord(t, mem, in, [][]exec.Datum{{int64(1)}})
	three := opRecord(t, mem, in, [][]exec.Datum{{int64(2)}, {int64(3)}, {int64(4)}})
	sink := newOpSink(t, l.Schema())
	opPush(t, ctx, l, 0, []arrow.RecordBatch{empty, one, empty, three, empty}, sink.emit)
	for _, r := range []arrow.RecordBatch{empty, one, three} {
		r.Release()
	}
	if !l.Done() {
		t.Fatal("LIMIT 2 not done after 2 rows")
	}
	if err := l.Flush(ctx, watermark.MaxTime, sink.emit); err != nil {
		t.Fatal(err)
	}
	opSameRows(t, "limit 2 offset 1", sink.rows(), [][]exec.Datum{{int64(2)}, {int64(3)}})
	if l.Done() {
		t.Fatal("Flush ends the epoch: the next epoch counts afresh (complete mode recomputes the whole table)")
	}
	sink.release()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	opAssertNoLeak(t, mem)
	if !exec.NewLimit(in, 0, 0).Done() {
		t.Fatal("LIMIT 0 must be done at once")
	}
}
