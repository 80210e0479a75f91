package exec_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/state"
)

// TestResultTableIncrementalSnapshot: a result table's changelogs, merged by the state layer
// with random compactions, hold the same rows, counts and order as a twin's whole snapshot after
// every epoch (and its running StateBytes equals a count from scratch), for a table of changes (rows retracted to zero and inserted again, NULLs) and a
// table of upserts keyed by its first column; a table restored from them at a random epoch emits
// what the original emits from then on (complete mode: the whole table at each Flush).
func TestResultTableIncrementalSnapshot(t *testing.T) {
	for _, upsert := range []bool{false, true} {
		for seed := uint64(1); seed <= 3; seed++ {
			t.Run(fmt.Sprintf("upsert=%v/seed%d", upsert, seed), func(t *testing.T) {
				testResultTableChanges(t, upsert, seed)
			})
		}
	}
}

func testResultTableChanges(t *testing.T, upsert bool, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 11))
	in := opSchema(exec.String, exec.Int64)
	ctx, mem := opCtx()
	var keys []int
	if upsert {
		keys = []int{0}
	}
	newOp := func() (exec.Operator, exec.IncrementalSnapshotter) {
		rt, err := exec.NewResultTable(in, exec.ResultEmitTable, keys)
		if err != nil {
			t.Fatal(err)
		}
		op := rt.Checkpointer()
		inc, ok := op.(exec.IncrementalSnapshotter)
		if !ok {
			t.Fatal("a result table keyed by its leading column (or by its rows) checkpoints incrementally")
		}
		return op, inc
	}
	d, err := state.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a, aInc := newOp()
	twin, _ := newOp()
	var b exec.Operator
	cut := 1 + rng.IntN(8)
	var live [][]exec.Datum
	flush := func(op exec.Operator) [][]exec.Datum { return flushAtMin(t, ctx, in, op) }
	for epoch := 0; epoch < 14; epoch++ {
		var rows [][]exec.Datum
		var ws []int64
		for i := rng.IntN(25); i > 0; i-- {
			var key exec.Datum = fmt.Sprintf("k%d", rng.IntN(12))
			if !upsert && rng.IntN(8) == 0 {
				key = nil
			}
			row := []exec.Datum{key, int64(rng.IntN(3))}
			if !upsert && len(live) > 0 && rng.IntN(2) == 0 {
				k := rng.IntN(len(live))
				rows, ws = append(rows, live[k]), append(ws, -1)
				live = append(live[:k], live[k+1:]...)
				continue
			}
			rows, ws = append(rows, row), append(ws, 1)
			live = append(live, row)
		}
		pushWeighted(t, ctx, in, rows, ws, a, twin, b)
		wa := flush(a)
		flush(twin)
		if b != nil {
			opSameRows(t, fmt.Sprintf("epoch %d, restored at %d", epoch, cut), flush(b), wa)
		}
		// Same order too: a complete-mode table emits in first-insertion order after a restore.
		merged := checkpointThroughChangelog(t, ctx, d, rng, epoch, aInc, twin.(exec.Snapshotter), func(what string, got, want [][]exec.Datum) {
			opSameRows(t, what, got, want)
		})
		// The running size estimate equals one counted from scratch by a restore.
		fresh, _ := newOp()
		if err := fresh.(exec.Snapshotter).RestoreState(ctx, merged); err != nil {
			t.Fatal(err)
		}
		type sized interface{ StateBytes() int64 }
		if got, want := a.(sized).StateBytes(), fresh.(sized).StateBytes(); got != want {
			t.Fatalf("epoch %d: StateBytes %d, counted from scratch %d", epoch, got, want)
		}
		fresh.Close()
		if epoch == cut {
			b, _ = newOp()
			if err := b.(exec.Snapshotter).RestoreState(ctx, merged); err != nil {
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
}

// TestResultTableCheckpointerKeepsSnapshotsForTrailingKeys: a table of upserts whose key is not
// its leading columns keeps whole snapshots (the changelog merge keys on leading columns).
func TestResultTableCheckpointerKeepsSnapshotsForTrailingKeys(t *testing.T) {
	rt, err := exec.NewResultTable(opSchema(exec.Int64, exec.String), exec.ResultEmitChanges, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	op := rt.Checkpointer()
	if _, ok := op.(exec.IncrementalSnapshotter); ok {
		t.Fatal("a table keyed by its second column must not checkpoint incrementally")
	}
	if _, ok := op.(exec.Snapshotter); !ok {
		t.Fatal("the checkpointer is not a Snapshotter")
	}
}
