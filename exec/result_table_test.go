package exec_test

import (
	"fmt"
	"testing"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/watermark"
)

// resultStep pushes one weighted delta into op, flushes, and returns what it emitted.
func resultStep(t *testing.T, ctx *exec.Ctx, op exec.Operator, rows [][]exec.Datum, ws []int64) []string {
	t.Helper()
	sink := newOpSink(t, op.Schema())
	defer sink.release()
	if len(rows) > 0 {
		d := weightedDelta(t, ctx, op.Schema(), rows, ws)
		if err := op.Push(ctx, 0, d, sink.emit); err != nil {
			t.Fatal(err)
		}
		d.Rec.Release()
		d.Weights.Release()
	}
	if err := op.Flush(ctx, watermark.MinTime, sink.emit); err != nil {
		t.Fatal(err)
	}
	var out []string
	for i, rec := range sink.recs {
		for j, row := range opRows(rec) {
			w := int64(1)
			if sink.weights[i] != nil {
				w = sink.weights[i].Value(j)
			}
			out = append(out, fmt.Sprintf("%+d %v", w, row))
		}
	}
	return out
}

// TestResultTable: in complete mode it re-emits the consolidated table every epoch; in changes
// mode it forwards the changes, and after a restore it first re-emits the restored table, so a
// sink that forgot its contents is refilled before the epoch's changes reach it.
func TestResultTable(t *testing.T) {
	s := opSchema(exec.String, exec.Int64)
	ctx, mem := opCtx()
	table, err := exec.NewResultTable(s, exec.ResultEmitTable, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(resultStep(t, ctx, table, [][]exec.Datum{{"a", int64(1)}, {"b", int64(2)}, {"a", int64(1)}}, []int64{1, 1, 1})); got != "[+2 [a 1] +1 [b 2]]" {
		t.Errorf("complete, epoch 0: %s", got)
	}
	if got := fmt.Sprint(resultStep(t, ctx, table, [][]exec.Datum{{"b", int64(2)}}, []int64{-1})); got != "[+2 [a 1]]" {
		t.Errorf("complete, epoch 1: %s", got)
	}
	bad := weightedDelta(t, ctx, s, [][]exec.Datum{{"zz", int64(0)}}, []int64{-1})
	if err := table.Push(ctx, 0, bad, nil); err == nil {
		t.Error("a retraction of a row the table does not hold was accepted")
	}
	bad.Rec.Release()
	bad.Weights.Release()
	table.Close()

	changes, _ := exec.NewResultTable(s, exec.ResultEmitChanges, nil)
	if got := fmt.Sprint(resultStep(t, ctx, changes, [][]exec.Datum{{"a", int64(1)}, {"b", int64(2)}}, []int64{1, 1})); got != "[+1 [a 1] +1 [b 2]]" {
		t.Errorf("changes, epoch 0: %s", got)
	}
	_, snap, err := changes.SnapshotState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	changes.Close()
	restored, _ := exec.NewResultTable(s, exec.ResultEmitChanges, nil)
	if err := restored.RestoreState(ctx, snap); err != nil {
		t.Fatal(err)
	}
	opRelease(snap)
	if got := fmt.Sprint(resultStep(t, ctx, restored, [][]exec.Datum{{"a", int64(1)}}, []int64{-1})); got != "[+1 [a 1] +1 [b 2] -1 [a 1]]" {
		t.Errorf("after a restore: %s (want the table, then the epoch's change)", got)
	}
	if got := fmt.Sprint(resultStep(t, ctx, restored, nil, nil)); got != "[]" {
		t.Errorf("the next epoch without input emits %s", got)
	}
	restored.Close()

	// Upserts by key: each row replaces its key's row.
	ups, _ := exec.NewResultTable(s, exec.ResultEmitTable, []int{0})
	resultStep(t, ctx, ups, [][]exec.Datum{{"a", int64(1)}, {"b", int64(2)}}, []int64{1, 1})
	if got := fmt.Sprint(resultStep(t, ctx, ups, [][]exec.Datum{{"a", int64(5)}}, []int64{1})); got != "[+1 [a 5] +1 [b 2]]" {
		t.Errorf("upserts: %s", got)
	}
	ups.Close()
	opAssertNoLeak(t, mem)
}
