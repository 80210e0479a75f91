package exec_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/state"
)

// TestStreamDistinctIncrementalSnapshot: DISTINCT's changelogs (rows whose count changed; rows
// retracted to zero as tombstones, often inserted again, with NULLs, -0.0 and NaN among them),
// merged by the state layer with random compactions, hold the same rows and counts as a twin's
// full snapshot after every epoch, and an operator restored from them at a random epoch emits
// exactly what the original emits from then on.
func TestStreamDistinctIncrementalSnapshot(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 5))
			in := opSchema(exec.String, exec.Float64)
			ctx, mem := opCtx()
			newOp := func() *exec.StreamDistinct {
				op, err := exec.NewStreamDistinct(in)
				if err != nil {
					t.Fatal(err)
				}
				return op
			}
			d, err := state.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			a, twin := newOp(), newOp()
			var b *exec.StreamDistinct
			cut := 1 + rng.IntN(8)
			floats := []exec.Datum{0.0, math.Copysign(0, -1), math.NaN(), 1.5, nil}
			var live [][]exec.Datum
			flush := func(op exec.Operator) [][]exec.Datum { return flushAtMin(t, ctx, in, op) }
			for epoch := 0; epoch < 12; epoch++ {
				var rows [][]exec.Datum
				var ws []int64
				for i := rng.IntN(20); i > 0; i-- {
					if len(live) > 0 && rng.IntN(2) == 0 {
						k := rng.IntN(len(live))
						rows, ws = append(rows, live[k]), append(ws, -1)
						live = append(live[:k], live[k+1:]...)
						continue
					}
					var key exec.Datum = []string{"a", "b", "c"}[rng.IntN(3)]
					if rng.IntN(6) == 0 {
						key = nil
					}
					row := []exec.Datum{key, floats[rng.IntN(len(floats))]}
					rows, ws = append(rows, row), append(ws, 1)
					live = append(live, row)
				}
				pushWeighted(t, ctx, in, rows, ws, a, twin, b)
				wa := flush(a)
				flush(twin)
				if b != nil {
					opSameRows(t, fmt.Sprintf("epoch %d, restored at %d", epoch, cut), oneNaN(flush(b)), oneNaN(wa))
				}
				merged := checkpointThroughChangelog(t, ctx, d, rng, epoch, a, twin, func(what string, got, want [][]exec.Datum) {
					opSameMultiset(t, what, oneNaN(got), oneNaN(want))
				})
				if epoch == cut {
					b = newOp()
					if err := b.RestoreState(ctx, merged); err != nil {
						t.Fatalf("RestoreState from merged changes: %v", err)
					}
				}
				opRelease(merged)
			}
			a.Close()
			twin.Close()
			if b != nil {
				b.Close()
			}
			opAssertNoLeak(t, mem)
		})
	}
}
