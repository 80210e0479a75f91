package exec

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/watermark"
)

// Session aggregate checkpoints: like TestHashAggregateSnapshotRestore, operator B restored from
// A's snapshot (through an IPC file) must emit exactly what A emits for the remaining epochs, and
// the final sessions must equal sessNaive over the rows that were not late.

func TestSessionAggregateSnapshotRestore(t *testing.T) {
	keyKinds := []struct {
		name string
		cols []int
	}{{"bigint", []int{0}}, {"varchar", []int{3}}, {"multi", []int{0, 3}}, {"nokeys", nil}}
	for _, mode := range []AggEmit{AggEmitAll, AggEmitClosed} {
		for _, k := range keyKinds {
			t.Run(fmt.Sprintf("%s/%s", mode, k.name), func(t *testing.T) {
				for seed := uint64(1); seed <= 4; seed++ {
					sessSnapRun(t, mode, k.cols, seed)
				}
			})
		}
	}
}

func sessOutSchema(t *testing.T, keyCols []int) *arrow.Schema {
	var fs []arrow.Field
	for _, c := range keyCols {
		fs = append(fs, arrow.Field{Name: stTestSchema.Field(c).Name, Type: stTestSchema.Field(c).Type, Nullable: true})
	}
	fs = append(fs, arrow.Field{Name: "session_start", Type: Timestamp}, arrow.Field{Name: "session_end", Type: Timestamp})
	outAgg := aggOutSchema(t, stTestSchema, []int{0}, stAggs)
	return arrow.NewSchema(append(fs, outAgg.Fields()[1:]...), nil)
}

func sessSnapRun(t *testing.T, mode AggEmit, keyCols []int, seed uint64) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r := rand.New(rand.NewPCG(seed, 23))
	const gap, delay = 5, 8
	rows := stEvents(r, 150+r.IntN(250), -100, 1, 12)
	for i := range rows {
		if rows[i][1] != nil {
			rows[i][1] = rows[i][1].(int64) + int64(i/25)*7
		}
	}
	out := sessOutSchema(t, keyCols)
	newOp := func() *SessionAggregate {
		op, err := NewSessionAggregate(stTestSchema, keyCols, 1, gap, stAggs, out, mode)
		if err != nil {
			t.Fatal(err)
		}
		return op
	}
	epochs := stSplit(r, len(rows), 50)
	cut := 1 + r.IntN(len(epochs))
	// Watermarks per epoch, computed up front like the driver does (from the rows of earlier epochs).
	wms := make([]watermark.Time, len(epochs))
	gen := watermark.NewGenerator(delay)
	wm := watermark.MinTime
	var kept [][]Datum
	for e, ep := range epochs {
		wms[e] = wm
		for _, row := range rows[ep[0]:ep[1]] {
			if row[1] == nil {
				continue
			}
			if wm == watermark.MinTime || row[1].(int64) > int64(wm) {
				kept = append(kept, row)
			}
			gen.Observe(watermark.Time(row[1].(int64)))
		}
		wm = max(wm, gen.Current())
	}
	ctx := newTestCtx(mem)
	push := func(op *SessionAggregate, e int) {
		ctx.Watermark = wms[e]
		for lo := epochs[e][0]; lo < epochs[e][1]; lo += 9 {
			rec := stRecord(t, mem, stTestSchema, rows[lo:min(epochs[e][1], lo+9)])
			err := op.Push(ctx, 0, Delta{Rec: rec}, nil)
			rec.Release()
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	a := newOp()
	defer a.Close()
	var emittedA [][]Datum
	for e := 0; e < cut; e++ {
		push(a, e)
		emittedA = append(emittedA, snapFlush(t, ctx, a, wms[e])...)
	}
	recs := snapRoundTrip(t, ctx, a)
	b := newOp()
	defer b.Close()
	err := b.RestoreState(ctx, recs)
	releaseRecords(recs)
	if err != nil {
		t.Fatalf("RestoreState: %v", err)
	}
	if b.StateRows() != a.StateRows() || b.DroppedLate() != a.DroppedLate() {
		t.Fatalf("restored %d events, %d dropped; snapshotted %d, %d", b.StateRows(), b.DroppedLate(), a.StateRows(), a.DroppedLate())
	}
	_, sa, err := a.SnapshotState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, sb, err := b.SnapshotState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	snapSameRows(t, "snapshot of the restored operator", snapRecordRows(sb), snapRecordRows(sa))
	releaseRecords(sa)
	releaseRecords(sb)
	emittedB := append([][]Datum(nil), emittedA...)
	for e := cut; e < len(epochs); e++ {
		push(a, e)
		push(b, e)
		oa, ob := snapFlush(t, ctx, a, wms[e]), snapFlush(t, ctx, b, wms[e])
		snapSameRows(t, fmt.Sprintf("seed %d, epoch %d of %d (restored after %d)", seed, e, len(epochs), cut), ob, oa)
		emittedB = append(emittedB, ob...)
	}
	fa, fb := snapFlush(t, ctx, a, watermark.MaxTime), snapFlush(t, ctx, b, watermark.MaxTime)
	snapSameRows(t, "final flush", fb, fa)
	// The oracle, over the rows that were not late (sessNaive groups by column 0 only).
	if len(keyCols) == 1 && keyCols[0] == 0 {
		want := sessNaive(t, kept, gap, stAggs, out)
		if mode == AggEmitAll {
			compareAggRows(t, "complete mode after restore", 3, out, fb, want)
		} else {
			compareAggRows(t, "append mode union across the restore", 3, out, append(emittedB, fb...), want)
		}
	}
}

// TestSessionAggregateSnapshotMismatch: another gap or aggregate list is refused.
func TestSessionAggregateSnapshotMismatch(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := newTestCtx(mem)
	out := sessOutSchema(t, []int{0})
	a, err := NewSessionAggregate(stTestSchema, []int{0}, 1, 5, stAggs, out, AggEmitClosed)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	rec := stRecord(t, mem, stTestSchema, stEvents(rand.New(rand.NewPCG(1, 2)), 50, 0, 1, 3))
	if err := a.Push(ctx, 0, Delta{Rec: rec}, nil); err != nil {
		t.Fatal(err)
	}
	rec.Release()
	recs := snapRoundTrip(t, ctx, a)
	defer releaseRecords(recs)
	otherAggs := append(append([]AggSpec(nil), stAggs[:len(stAggs)-1]...), AggSpec{Kind: AggMax, Col: 2})
	otherOut := arrow.NewSchema(append(out.Fields()[:len(out.Fields())-1], arrow.Field{Name: "mx", Type: Int64, Nullable: true}), nil)
	for _, tc := range []struct {
		name string
		gap  int64
		aggs []AggSpec
		out  *arrow.Schema
		emit AggEmit
	}{
		{"another gap", 6, stAggs, out, AggEmitClosed},
		{"another aggregate list", 5, otherAggs, otherOut, AggEmitClosed},
		{"another output mode", 5, stAggs, out, AggEmitAll},
	} {
		b, err := NewSessionAggregate(stTestSchema, []int{0}, 1, tc.gap, tc.aggs, tc.out, tc.emit)
		if err != nil {
			t.Fatal(err)
		}
		err = b.RestoreState(ctx, recs)
		b.Close()
		if err == nil || !strings.Contains(err.Error(), "checkpoint state does not match the query") {
			t.Errorf("%s: RestoreState error = %v, want a mismatch", tc.name, err)
		}
	}
}
