package exec

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/state"
	"github.com/streamsql/streamsql/watermark"
)

// Incremental checkpoints of the streaming aggregate: operator A writes only its changes every
// epoch through a real checkpoint directory (state.Dir, compacted at random epochs); after each
// epoch the merged state (ReadState) must equal the full snapshot of a twin operator that saw
// the same input (row order included), and an operator restored from the merged state at a
// random epoch must then emit exactly what A emits.

func TestHashAggregateIncrementalSnapshot(t *testing.T) {
	cases := []struct {
		name string
		c    snapAggCase
		ttl  time.Duration
	}{
		{"update/bigint", snapAggCase{groupCols: []int{1}, emit: AggEmitChanged, evtCol: -1}, 0},
		{"update/multi", snapAggCase{groupCols: []int{0, 4, 2}, emit: AggEmitChanged, evtCol: -1}, 0},
		{"complete/varchar", snapAggCase{groupCols: []int{4}, emit: AggEmitAll, evtCol: -1}, 0},
		{"update/nokeys", snapAggCase{groupCols: nil, emit: AggEmitChanged, evtCol: -1}, 0},
		{"window-update", snapAggCase{groupCols: []int{5, 1}, emit: AggEmitChanged, evtCol: 0}, 0},
		{"window-append", snapAggCase{groupCols: []int{4, 5}, emit: AggEmitClosed, evtCol: 1}, 0},
		{"ttl-update/bigint", snapAggCase{groupCols: []int{1}, emit: AggEmitChanged, evtCol: -1}, 2 * time.Second},
		{"ttl-complete/multi", snapAggCase{groupCols: []int{0, 4, 2}, emit: AggEmitAll, evtCol: -1}, 3 * time.Second},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for seed := uint64(1); seed <= 2; seed++ {
				incRunAgg(t, tc.c, tc.ttl, seed+uint64(i)*10)
			}
		})
	}
}

func incRunAgg(t *testing.T, c snapAggCase, ttl time.Duration, seed uint64) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r := rand.New(rand.NewPCG(seed, 23))
	aggs := aggAllSpecs()
	out := aggOutSchema(t, aggTestSchema, c.groupCols, aggs)
	newOp := func() *HashAggregate {
		op, err := NewStreamingHashAggregate(aggTestSchema, c.groupCols, aggs, out, AggStreamOptions{Emit: c.emit, EventTimeCol: c.evtCol, TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		return op
	}
	rec, rows := aggRandomRecord(t, mem, r, 300+r.IntN(500))
	defer rec.Release()
	epochs := stSplit(r, len(rows), 60)
	cut := r.IntN(len(epochs))
	ctx := newTestCtx(mem)
	wmOf := func(e int) watermark.Time {
		if c.evtCol < 0 || e < 2 {
			return watermark.MinTime
		}
		return watermark.Time(int64(e-2) * 3600 * 1_000_000)
	}
	push := func(op *HashAggregate, e int) {
		ctx.Watermark = wmOf(e)
		ctx.Now = time.Unix(int64(e), 0) // one second per epoch, for the TTL
		lo, hi := epochs[e][0], epochs[e][1]
		// Only part of the keys in most epochs, so some groups stay untouched (and expire).
		for off := lo; off < hi; off += 37 {
			if ttl > 0 && e%3 != 0 && (off/37)%2 == 0 {
				continue
			}
			s := rec.NewSlice(int64(off), int64(min(hi, off+37)))
			err := op.Push(ctx, 0, Delta{Rec: s}, nil)
			s.Release()
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	d, err := state.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a, twin := newOp(), newOp()
	defer a.Close()
	defer twin.Close()
	var b *HashAggregate
	for e := 0; e < len(epochs); e++ {
		push(a, e)
		push(twin, e)
		wa := snapFlush(t, ctx, a, wmOf(e))
		snapFlush(t, ctx, twin, wmOf(e))
		if b != nil {
			push(b, e)
			wb := snapFlush(t, ctx, b, wmOf(e))
			snapSameRows(t, fmt.Sprintf("seed %d epoch %d: restored at %d", seed, e, cut), wb, wa)
		}
		schema, ups, dels, err := a.SnapshotChanges(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = d.WriteChanges(0, int64(e), int64(e-1), schema, a.StateKeyColumns(), ups, dels, mem)
		releaseRecords(ups)
		releaseRecords(dels)
		if err != nil {
			t.Fatal(err)
		}
		if r.IntN(4) == 0 {
			if _, err := d.Compact(0, int64(e), mem); err != nil {
				t.Fatal(err)
			}
		}
		_, merged, err := d.ReadState(0, int64(e), mem)
		if err != nil {
			t.Fatal(err)
		}
		_, full, err := twin.SnapshotState(ctx)
		if err != nil {
			t.Fatal(err)
		}
		snapSameRows(t, fmt.Sprintf("seed %d epoch %d: merged changes vs full snapshot", seed, e), snapRecordRows(merged), snapRecordRows(full))
		releaseRecords(full)
		if e == cut {
			b = newOp()
			defer b.Close()
			if err := b.RestoreState(ctx, merged); err != nil {
				t.Fatalf("RestoreState from merged changes: %v", err)
			}
			if b.ExpiredKeys() != a.ExpiredKeys() || b.DroppedLate() != a.DroppedLate() {
				t.Fatalf("restored counters %d expired %d dropped, want %d, %d", b.ExpiredKeys(), b.DroppedLate(), a.ExpiredKeys(), a.DroppedLate())
			}
		}
		releaseRecords(merged)
	}
	if ttl > 0 && a.ExpiredKeys() == 0 && len(c.groupCols) > 0 {
		t.Fatalf("seed %d: the TTL expired no key in %d epochs", seed, len(epochs))
	}
	fa, fb := snapFlush(t, ctx, a, watermark.MaxTime), snapFlush(t, ctx, b, watermark.MaxTime)
	snapSameRows(t, "final flush", fb, fa)
}

// TestHashAggregateTTLExpiresUntouchedKeys: a key not updated for the TTL disappears without a
// retraction; one updated in time stays; a key seen again after expiring starts from zero.
func TestHashAggregateTTLExpiresUntouchedKeys(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	in := arrow.NewSchema([]arrow.Field{{Name: "k", Type: String}}, nil)
	out := arrow.NewSchema([]arrow.Field{{Name: "k", Type: String, Nullable: true}, {Name: "n", Type: Int64}}, nil)
	op, err := NewStreamingHashAggregate(in, []int{0}, []AggSpec{{Kind: AggCountStar}}, out, AggStreamOptions{Emit: AggEmitAll, EventTimeCol: -1, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	ctx := newTestCtx(mem)
	epoch := func(at time.Duration, keys ...string) [][]Datum {
		ctx.Now = time.Unix(0, 0).Add(at)
		rows := make([][]Datum, len(keys))
		for i, k := range keys {
			rows[i] = []Datum{k}
		}
		if len(rows) > 0 {
			rec := stRecord(t, mem, in, rows)
			if err := op.Push(ctx, 0, Delta{Rec: rec}, nil); err != nil {
				t.Fatal(err)
			}
			rec.Release()
		}
		return snapFlush(t, ctx, op, watermark.MinTime)
	}
	epoch(0, "a", "b", "a")
	got := epoch(50*time.Minute, "b")
	snapSameRows(t, "at 50m", got, [][]Datum{{"a", int64(2)}, {"b", int64(2)}})
	got = epoch(61 * time.Minute) // a last updated at 0: expired; b at 50m: kept
	snapSameRows(t, "at 61m", got, [][]Datum{{"b", int64(2)}})
	if op.ExpiredKeys() != 1 {
		t.Fatalf("expired %d keys, want 1", op.ExpiredKeys())
	}
	got = epoch(62*time.Minute, "a")
	snapSameRows(t, "a again", got, [][]Datum{{"b", int64(2)}, {"a", int64(1)}})
	got = epoch(200 * time.Minute)
	snapSameRows(t, "all expired", got, nil)
	if op.ExpiredKeys() != 3 || op.StateRows() != 0 {
		t.Fatalf("expired %d keys, %d left; want 3, 0", op.ExpiredKeys(), op.StateRows())
	}
}
