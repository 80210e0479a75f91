package exec_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/state"
	"github.com/streamsql/streamsql/watermark"
)

// checkpointThroughChangelog is the checkpoint half of an incremental-snapshot test's epoch: it
// writes op's SnapshotChanges for epoch into d as the query does, compacts at random (one epoch
// in three), reads the merged state back and checks it against twin's whole snapshot with same
// (rows as recRows renders them). It returns the merged records for a restore; the caller
// releases them.
func checkpointThroughChangelog(t *testing.T, ctx *exec.Ctx, d *state.Dir, rng *rand.Rand, epoch int, op exec.IncrementalSnapshotter, twin exec.Snapshotter, same func(what string, got, want [][]exec.Datum)) []arrow.RecordBatch {
	t.Helper()
	schema, ups, dels, err := op.SnapshotChanges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.WriteChanges(0, int64(epoch), int64(epoch-1), schema, op.StateKeyColumns(), ups, dels, ctx.Mem)
	opRelease(ups)
	opRelease(dels)
	if err != nil {
		t.Fatal(err)
	}
	if rng.IntN(3) == 0 {
		if _, err := d.Compact(0, int64(epoch), ctx.Mem); err != nil {
			t.Fatal(err)
		}
	}
	_, merged, err := d.ReadState(0, int64(epoch), ctx.Mem)
	if err != nil {
		t.Fatal(err)
	}
	_, full, err := twin.SnapshotState(ctx)
	if err != nil {
		opRelease(merged)
		t.Fatal(err)
	}
	defer opRelease(full)
	same(fmt.Sprintf("epoch %d: merged changes vs full snapshot", epoch), recRows(merged), recRows(full))
	return merged
}

// pushWeighted pushes the same weighted rows (schema in) to every operator that is not nil (nor a
// nil pointer: a test passes the restored operator before it exists), each
// its own copy of the delta; nothing when rows is empty.
func pushWeighted(t *testing.T, ctx *exec.Ctx, in *arrow.Schema, rows [][]exec.Datum, ws []int64, ops ...exec.Operator) {
	t.Helper()
	if len(rows) == 0 {
		return
	}
	for _, op := range ops {
		if v := reflect.ValueOf(op); op == nil || v.Kind() == reflect.Pointer && v.IsNil() {
			continue
		}
		dl := weightedDelta(t, ctx, in, rows, ws)
		err := op.Push(ctx, 0, dl, nil)
		dl.Rec.Release()
		dl.Weights.Release()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// flushAtMin flushes op at the minimum watermark (nothing closes) and returns the rows it emits.
func flushAtMin(t *testing.T, ctx *exec.Ctx, out *arrow.Schema, op exec.Operator) [][]exec.Datum {
	t.Helper()
	sink := newOpSink(t, out)
	defer sink.release()
	if err := op.Flush(ctx, watermark.MinTime, sink.emit); err != nil {
		t.Fatal(err)
	}
	return sink.rows()
}
