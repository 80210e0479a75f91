package exec_test

import (
	"math/rand/v2"
	"testing"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/watermark"
)

// TestSymmetricHashJoinExactRangeSkipsOnlyInBand: with JoinTimeRange.Exact the residual is
// skipped only for pairs whose two times lie within [-Exact, Exact]. The residual here is the
// bound within the band and stricter outside it (l.t <= E OR l.v > 50), so the join must give
// the oracle's rows (bound AND residual) with Exact = E exactly as with Exact = 0, where every
// pair is evaluated.
func TestSymmetricHashJoinExactRangeSkipsOnlyInBand(t *testing.T) {
	side := opSchema(exec.Int64, exec.Int64, exec.Int64) // k, t (BIGINT microseconds), v
	const lo, hi, band = -3, 5, 50
	for _, exact := range []int64{0, band} {
		for seed := uint64(1); seed <= 10; seed++ {
			r := rand.New(rand.NewPCG(seed, uint64(exact)))
			ctx, mem := opCtx()
			diff := opCall(t, "-", opCol(4, exec.Int64), opCol(1, exec.Int64))
			inRange := opCall(t, "and", opCall(t, ">=", diff, opLit(int64(lo), exec.Int64)), opCall(t, "<=", diff, opLit(int64(hi), exec.Int64)))
			outside := opCall(t, "or", opCall(t, "<=", opCol(1, exec.Int64), opLit(int64(band), exec.Int64)), opCall(t, ">", opCol(2, exec.Int64), opLit(int64(50), exec.Int64)))
			residual := opCall(t, "and", inRange, outside)
			ev := &exec.JoinEviction{LeftTimeCol: -1, RightTimeCol: -1,
				Range:  &exec.JoinTimeRange{LeftCol: 1, RightCol: 1, Lo: lo, Hi: hi, Exact: exact},
				Bounds: func(wm watermark.Time) (watermark.Time, watermark.Time) { return watermark.MinTime, watermark.MinTime }}
			j, err := exec.NewSymmetricHashJoin(exec.StreamJoinInner, side, side, []int{0}, []int{0}, residual, ev)
			if err != nil {
				t.Fatal(err)
			}
			sink := newOpSink(t, j.Schema())
			var all [2][][]exec.Datum
			for round := 0; round < 4; round++ {
				for s := 0; s < 2; s++ {
					var rows [][]exec.Datum
					for i := r.IntN(40); i > 0; i-- {
						rows = append(rows, []exec.Datum{int64(r.IntN(3)), r.Int64N(120) - 10, r.Int64N(100)})
					}
					all[s] = append(all[s], rows...)
					recs := opRecords(t, mem, side, rows, 7)
					opPush(t, ctx, j, s, recs, sink.emit)
					opRelease(recs)
				}
			}
			var want [][]exec.Datum
			for _, l := range all[0] {
				for _, rr := range all[1] {
					d := rr[1].(int64) - l[1].(int64)
					if l[0] == rr[0] && d >= lo && d <= hi && (l[1].(int64) <= band || l[2].(int64) > 50) {
						want = append(want, append(append([]exec.Datum{}, l...), rr...))
					}
				}
			}
			opSameMultiset(t, "exact", sink.rows(), want)
			sink.release()
			j.Close()
			opAssertNoLeak(t, mem)
		}
	}
}
