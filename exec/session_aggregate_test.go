package exec

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/watermark"
)

// The session oracle, in Spark's formulation: every event is a session [t, t+gap); a key's
// sessions sorted by start merge while the next one starts at or before the current end (so two
// events exactly one gap apart share a session). Every row is tagged with its merged session's
// (start, end) and refAggregate runs grouped by (key, start, end).
func sessNaive(t *testing.T, rows [][]Datum, gap int64, aggs []AggSpec, out *arrow.Schema) [][]Datum {
	t.Helper()
	byKey := map[string][][]Datum{}
	var keys []string
	for _, r := range rows {
		if r[1] == nil {
			continue
		}
		k := aggCanon(r[0])
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], r)
	}
	var tagged [][]Datum
	for _, k := range keys {
		ev := byKey[k]
		sort.SliceStable(ev, func(i, j int) bool { return ev[i][1].(int64) < ev[j][1].(int64) })
		for i := 0; i < len(ev); {
			start, end := ev[i][1].(int64), ev[i][1].(int64)+gap
			j := i + 1
			for ; j < len(ev); j++ {
				next := ev[j][1].(int64)
				if next > end {
					break
				}
				end = max(end, next+gap)
			}
			for _, r := range ev[i:j] {
				tagged = append(tagged, append(append([]Datum{}, r...), start, end))
			}
			i = j
		}
	}
	tagSchema := arrow.NewSchema(append(append([]arrow.Field{}, stTestSchema.Fields()...),
		arrow.Field{Name: "session_start", Type: Timestamp}, arrow.Field{Name: "session_end", Type: Timestamp}), nil)
	want, err := refAggregate(tagSchema, tagged, []int{0, 4, 5}, aggs, out)
	if err != nil {
		t.Fatal(err)
	}
	return want
}

func TestSessionAggregateMatchesNaive(t *testing.T) {
	for _, mode := range []AggEmit{AggEmitAll, AggEmitClosed} {
		for seed := uint64(1); seed <= 8; seed++ {
			t.Run(fmt.Sprintf("%s/seed%d", mode, seed), func(t *testing.T) { sessRun(t, mode, seed) })
		}
	}
}

func sessRun(t *testing.T, mode AggEmit, seed uint64) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r := rand.New(rand.NewPCG(seed, 7))
	const gap, delay = 5, 8
	// Bursty event times: jumps between bursts make gaps, jitter makes out-of-order bridging events.
	rows := stEvents(r, 150+r.IntN(250), -100, 1, 12)
	for i := range rows {
		if rows[i][1] != nil {
			rows[i][1] = rows[i][1].(int64) + int64(i/25)*7
		}
	}
	out := arrow.NewSchema([]arrow.Field{{Name: "k", Type: Int64, Nullable: true},
		{Name: "session_start", Type: Timestamp}, {Name: "session_end", Type: Timestamp}}, nil)
	outAgg := aggOutSchema(t, stTestSchema, []int{0, 1, 1}, stAggs)
	out = arrow.NewSchema(append(out.Fields(), outAgg.Fields()[3:]...), nil)
	op, err := NewSessionAggregate(stTestSchema, []int{0}, 1, gap, stAggs, out, mode)
	if err != nil {
		t.Fatal(err)
	}
	ctx := newTestCtx(mem)
	gen := watermark.NewGenerator(delay)
	wm := watermark.MinTime
	var kept [][]Datum
	var wantLate int64
	result := map[string][]Datum{}
	var last [][]Datum
	batch := []int{1, 7, 64}[r.IntN(3)]
	for _, ep := range stSplit(r, len(rows), 50) {
		ctx.Watermark = wm
		for _, row := range rows[ep[0]:ep[1]] {
			switch {
			case row[1] == nil:
			case wm != watermark.MinTime && row[1].(int64) <= int64(wm):
				wantLate++
			default:
				kept = append(kept, row)
			}
		}
		for lo := ep[0]; lo < ep[1]; lo += batch {
			rec := stRecord(t, mem, stTestSchema, rows[lo:min(ep[1], lo+batch)])
			err := op.Push(ctx, 0, Delta{Rec: rec}, nil)
			rec.Release()
			if err != nil {
				t.Fatal(err)
			}
		}
		var emitted [][]Datum
		if err := op.Flush(ctx, wm, func(d Delta) error { emitted = append(emitted, stRows(d.Rec)...); return nil }); err != nil {
			t.Fatal(err)
		}
		stApply(t, mode, result, &last, emitted, 3)
		for _, row := range rows[ep[0]:ep[1]] {
			if row[1] != nil {
				gen.Observe(watermark.Time(row[1].(int64)))
			}
		}
		wm = max(wm, gen.Current())
	}
	if op.DroppedLate() != wantLate || wantLate == 0 {
		t.Errorf("DroppedLate = %d, want %d (> 0)", op.DroppedLate(), wantLate)
	}
	want := sessNaive(t, kept, gap, stAggs, out)
	if mode == AggEmitAll {
		compareAggRows(t, "complete mode, last output", 3, out, last, want)
	} else {
		if len(result) == 0 {
			t.Errorf("append mode emitted nothing before the end of input")
		}
		var final [][]Datum
		if err := op.Flush(ctx, watermark.MaxTime, func(d Delta) error { final = append(final, stRows(d.Rec)...); return nil }); err != nil {
			t.Fatal(err)
		}
		stApply(t, mode, result, &last, final, 3)
		compareAggRows(t, "append mode, union", 3, out, stValues(result), want)
		if op.StateRows() != 0 {
			t.Errorf("StateRows = %d after the end of input", op.StateRows())
		}
	}
	// Batch: every row in one epoch flushed with MaxTime equals the oracle over all rows.
	bop, err := NewSessionAggregate(stTestSchema, []int{0}, 1, gap, stAggs, out, AggEmitAll)
	if err != nil {
		t.Fatal(err)
	}
	bctx := newTestCtx(mem)
	bctx.Watermark = watermark.MinTime
	rec := stRecord(t, mem, stTestSchema, rows)
	if err := bop.Push(bctx, 0, Delta{Rec: rec}, nil); err != nil {
		t.Fatal(err)
	}
	rec.Release()
	var got [][]Datum
	if err := bop.Flush(bctx, watermark.MaxTime, func(d Delta) error { got = append(got, stRows(d.Rec)...); return nil }); err != nil {
		t.Fatal(err)
	}
	compareAggRows(t, "batch", 3, out, got, sessNaive(t, rows, gap, stAggs, out))
	bop.Close()
	op.Close()
}

// TestSessionAggregateMemoryFlat: 1,000 epochs of short sessions with a moving watermark.
func TestSessionAggregateMemoryFlat(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	out := arrow.NewSchema([]arrow.Field{{Name: "k", Type: Int64, Nullable: true},
		{Name: "session_start", Type: Timestamp}, {Name: "session_end", Type: Timestamp}, {Name: "n", Type: Int64}}, nil)
	op, err := NewSessionAggregate(stTestSchema, []int{0}, 1, 3, []AggSpec{{Kind: AggCountStar}}, out, AggEmitClosed)
	if err != nil {
		t.Fatal(err)
	}
	ctx := newTestCtx(mem)
	var rowsAt100, bytesAt100, maxRows, maxBytes, emitted int64
	for e := int64(0); e < 1000; e++ {
		ctx.Watermark = watermark.Time(e*10 - 20)
		var rows [][]Datum
		for i := int64(0); i < 40; i++ {
			rows = append(rows, []Datum{e*1000 + i%13, e*10 + i%10, i, "x"})
		}
		rec := stRecord(t, mem, stTestSchema, rows)
		if err := op.Push(ctx, 0, Delta{Rec: rec}, nil); err != nil {
			t.Fatal(err)
		}
		rec.Release()
		if err := op.Flush(ctx, ctx.Watermark, func(d Delta) error { emitted += d.Rec.NumRows(); return nil }); err != nil {
			t.Fatal(err)
		}
		if e == 100 {
			rowsAt100, bytesAt100 = op.StateRows(), op.StateBytes()
		}
		if e >= 100 {
			maxRows, maxBytes = max(maxRows, op.StateRows()), max(maxBytes, op.StateBytes())
		}
	}
	if maxRows > 2*rowsAt100 || maxBytes > 2*bytesAt100 {
		t.Errorf("state grew from %d rows / %d bytes at epoch 100 to %d / %d", rowsAt100, bytesAt100, maxRows, maxBytes)
	}
	if emitted < 900*13 {
		t.Errorf("emitted %d sessions, want at least %d", emitted, 900*13)
	}
	op.Close()
}

// TestSessionAggregateExactGapMerges: events exactly one gap apart share a session (Spark merges
// while the next session starts at or before the current end): 25, 30, 40 with gap 10 make
// [25, 50), not [25, 40) and [40, 50), in batch and in append mode across epochs; 51 is 11 after
// 40 and opens its own session.
func TestSessionAggregateExactGapMerges(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	out := arrow.NewSchema([]arrow.Field{{Name: "k", Type: Int64, Nullable: true},
		{Name: "session_start", Type: Timestamp}, {Name: "session_end", Type: Timestamp}, {Name: "n", Type: Int64}}, nil)
	aggs := []AggSpec{{Kind: AggCountStar}}
	want := [][]Datum{{int64(1), int64(25), int64(50), int64(3)}, {int64(1), int64(51), int64(61), int64(1)}}
	for _, mode := range []AggEmit{AggEmitAll, AggEmitClosed} {
		op, err := NewSessionAggregate(stTestSchema, []int{0}, 1, 10, aggs, out, mode)
		if err != nil {
			t.Fatal(err)
		}
		ctx := newTestCtx(mem)
		var got [][]Datum
		collect := func(d Delta) error { got = append(got, stRows(d.Rec)...); return nil }
		// Epoch 1 holds 25 and 30, epoch 2 (watermark 30) brings 40 and 51, then everything closes.
		for i, ep := range [][][]Datum{{{int64(1), int64(25), nil, nil}, {int64(1), int64(30), nil, nil}}, {{int64(1), int64(40), nil, nil}, {int64(1), int64(51), nil, nil}}} {
			ctx.Watermark = watermark.MinTime
			if i == 1 {
				ctx.Watermark = 30
			}
			rec := stRecord(t, mem, stTestSchema, ep)
			if err := op.Push(ctx, 0, Delta{Rec: rec}, nil); err != nil {
				t.Fatal(err)
			}
			rec.Release()
			if mode == AggEmitClosed {
				if err := op.Flush(ctx, ctx.Watermark, collect); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := op.Flush(ctx, watermark.MaxTime, collect); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: got %v, want %v", mode, got, want)
		}
		op.Close()
	}
}
