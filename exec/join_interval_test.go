package exec_test

import (
	"math/rand/v2"
	"testing"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/watermark"
)

// An interval join (JoinEviction with LateByWatermark, Range and, for LEFT, PadOnEvict) against a
// nested-loop oracle: random epochs of rows that are never late, the watermark following the
// rows; after a last Flush at +inf the emitted rows equal the batch join exactly (a LEFT join's
// unmatched rows padded once, at their eviction), nothing is emitted twice, and the state holds
// only rows within the bound of the watermark after every epoch.
func TestSymmetricHashJoinIntervalMatchesOracle(t *testing.T) {
	side := opSchema(exec.Int64, exec.Int64, exec.Int64) // k, t (BIGINT microseconds), v
	const lo, hi = -3, 5                                 // r.t - l.t in [lo, hi]
	for seed := uint64(1); seed <= 30; seed++ {
		for _, kind := range []exec.StreamJoinKind{exec.StreamJoinInner, exec.StreamJoinLeft} {
			r := rand.New(rand.NewPCG(seed, uint64(kind)))
			ctx, mem := opCtx()
			diff := opCall(t, "-", opCol(4, exec.Int64), opCol(1, exec.Int64))
			residual := opCall(t, "and", opCall(t, ">=", diff, opLit(int64(lo), exec.Int64)), opCall(t, "<=", diff, opLit(int64(hi), exec.Int64)))
			ev := &exec.JoinEviction{LeftTimeCol: 1, RightTimeCol: 1, LateByWatermark: true, LeftLateCol: 1, RightLateCol: 1,
				PadOnEvict: kind == exec.StreamJoinLeft, Range: &exec.JoinTimeRange{LeftCol: 1, RightCol: 1, Lo: lo, Hi: hi},
				Bounds: func(wm watermark.Time) (watermark.Time, watermark.Time) {
					if wm == watermark.MinTime || wm == watermark.MaxTime {
						return wm, wm
					}
					return wm - hi, wm + lo
				}}
			j, err := exec.NewSymmetricHashJoin(kind, side, side, []int{0}, []int{0}, residual, ev)
			if err != nil {
				t.Fatal(err)
			}
			sink := newOpSink(t, j.Schema())
			var all [2][][]exec.Datum
			wm := watermark.MinTime
			var clock int64 = 100
			var serial int64 // v: every row distinct, so no row is held twice
			for epoch := 0; epoch < 10; epoch++ {
				ctx.Watermark = wm
				for s := 0; s < 2; s++ {
					var rows [][]exec.Datum
					for i := r.IntN(12); i > 0; i-- {
						tt := clock + r.Int64N(6) // never below the watermark (clock - 4 or less)
						serial++
						rows = append(rows, []exec.Datum{int64(r.IntN(3)), tt, serial})
					}
					all[s] = append(all[s], rows...)
					recs := opRecords(t, mem, side, rows, 5)
					opPush(t, ctx, j, s, recs, sink.emit)
					opRelease(recs)
				}
				if err := j.Flush(ctx, wm, sink.emit); err != nil {
					t.Fatal(err)
				}
				if wm != watermark.MinTime {
					// Rows within the bound of the watermark are all that may be held.
					var maxHeld int64
					for s := 0; s < 2; s++ {
						for _, row := range all[s] {
							tt := row[1].(int64)
							if (s == 0 && tt >= int64(wm)-hi) || (s == 1 && tt >= int64(wm)+lo) {
								maxHeld++
							}
						}
					}
					if j.StateRows() > maxHeld {
						t.Fatalf("seed %d %s epoch %d: %d state rows, at most %d are within the bound", seed, kind, epoch, j.StateRows(), maxHeld)
					}
				}
				clock += int64(r.IntN(6))
				wm = watermark.Time(clock - 4)
			}
			if err := j.Flush(ctx, watermark.MaxTime, sink.emit); err != nil {
				t.Fatal(err)
			}
			var want [][]exec.Datum
			for _, l := range all[0] {
				matched := false
				for _, rr := range all[1] {
					d := rr[1].(int64) - l[1].(int64)
					if l[0] == rr[0] && d >= lo && d <= hi {
						want = append(want, append(append([]exec.Datum{}, l...), rr...))
						matched = true
					}
				}
				if !matched && kind == exec.StreamJoinLeft {
					want = append(want, append(append([]exec.Datum{}, l...), nil, nil, nil))
				}
			}
			for _, w := range sink.weights {
				if w != nil {
					t.Fatalf("seed %d %s: a retraction or multiplicity was emitted", seed, kind)
				}
			}
			opSameMultiset(t, kind.String(), sink.rows(), want)
			if j.DroppedLate() != 0 || j.StateRows() != 0 {
				t.Fatalf("seed %d %s: dropped %d, state %d after +inf", seed, kind, j.DroppedLate(), j.StateRows())
			}
			sink.release()
			j.Close()
			opAssertNoLeak(t, mem)
		}
	}
}
