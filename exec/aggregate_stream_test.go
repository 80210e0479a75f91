package exec

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/watermark"
)

// Streaming tests of HashAggregate behind WindowAssign. The oracle assigns windows naively (every
// slide-aligned start s with s <= ts < s+size), marks a windowed row late when its window end is at
// or below the watermark of the epoch it arrives in, and runs refAggregate (the batch oracle of
// aggregate_test.go) over the rows that are not late.

var stTestSchema = arrow.NewSchema([]arrow.Field{
	{Name: "k", Type: Int64, Nullable: true},
	{Name: "ts", Type: Timestamp, Nullable: true},
	{Name: "v", Type: Int64, Nullable: true},
	{Name: "s", Type: String, Nullable: true},
}, nil)

// stRecord builds rows of schema s into one record owned by the caller.
func stRecord(t testing.TB, mem memory.Allocator, s *arrow.Schema, rows [][]Datum) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(mem, s)
	defer b.Release()
	for _, row := range rows {
		for c, v := range row {
			if err := AppendDatum(b.Field(c), v); err != nil {
				t.Fatalf("append %v to column %d: %v", v, c, err)
			}
		}
	}
	return b.NewRecordBatch()
}

func stRows(rec arrow.RecordBatch) [][]Datum {
	out := make([][]Datum, rec.NumRows())
	for i := range out {
		row := make([]Datum, rec.NumCols())
		for c := range row {
			row[c] = ValueAt(rec.Column(c), i)
		}
		out[i] = row
	}
	return out
}

// stNaiveWindows returns row extended with (start, end) for every window holding its event time.
func stNaiveWindows(row []Datum, tsCol int, size, slide int64) [][]Datum {
	if row[tsCol] == nil {
		return nil
	}
	ts := row[tsCol].(int64)
	var out [][]Datum
	// Candidate starts: every multiple of slide in (ts-size, ts], found by stepping from below.
	first := (ts - size) / slide * slide
	for first > ts-size {
		first -= slide
	}
	for s := first; s <= ts; s += slide {
		if s <= ts && ts < s+size {
			out = append(out, append(append([]Datum{}, row...), s, s+size))
		}
	}
	return out
}

// stEvents draws n events with event times moving forward step per event plus jitter (so some
// arrive out of order, some later than the watermark).
func stEvents(r *rand.Rand, n int, base, step, jitter int64) [][]Datum {
	rows := make([][]Datum, n)
	for i := range rows {
		var k, v, s Datum
		if r.IntN(10) > 0 {
			k = int64(r.IntN(4))
		}
		if r.IntN(8) > 0 {
			v = int64(r.IntN(7) - 2)
		}
		if r.IntN(8) > 0 {
			s = []string{"a", "b", "ab", "zz"}[r.IntN(4)]
		}
		var ts Datum
		if r.IntN(25) > 0 {
			ts = base + int64(i)*step - r.Int64N(jitter+1)
		}
		rows[i] = []Datum{k, ts, v, s}
	}
	return rows
}

// stSplit cuts n rows into random consecutive epochs.
func stSplit(r *rand.Rand, n, maxEpoch int) [][2]int {
	var out [][2]int
	for lo := 0; lo < n; {
		hi := min(n, lo+1+r.IntN(maxEpoch))
		out = append(out, [2]int{lo, hi})
		lo = hi
	}
	return out
}

func stKey(row []Datum, nkeys int) string {
	var sb strings.Builder
	for _, v := range row[:nkeys] {
		sb.WriteString(aggCanon(v) + "|")
	}
	return sb.String()
}

var stAggs = []AggSpec{{Kind: AggCountStar}, {Kind: AggSum, Col: 2}, {Kind: AggCount, Col: 2, Distinct: true},
	{Kind: AggSum, Col: 2, Distinct: true}, {Kind: AggMax, Col: 3}, {Kind: AggMin, Col: 2}, {Kind: AggAvg, Col: 2}}

func TestStreamingWindowAggregateMatchesBatch(t *testing.T) {
	for _, mode := range []AggEmit{AggEmitAll, AggEmitChanged, AggEmitClosed} {
		for seed := uint64(1); seed <= 6; seed++ {
			for _, win := range [][2]int64{{10, 10}, {10, 5}, {10, 3}} {
				t.Run(fmt.Sprintf("%s/seed%d/size%d-slide%d", mode, seed, win[0], win[1]), func(t *testing.T) {
					stRunWindowAgg(t, mode, seed, win[0], win[1])
				})
			}
		}
	}
}

func stRunWindowAgg(t *testing.T, mode AggEmit, seed uint64, size, slide int64) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r := rand.New(rand.NewPCG(seed, 99))
	const delay = 6
	rows := stEvents(r, 200+r.IntN(200), -50, 1, 15) // crosses zero: negative timestamps too
	wa, err := NewWindowAssign(stTestSchema, 1, size, slide)
	if err != nil {
		t.Fatal(err)
	}
	groupCols := []int{0, 4, 5}
	out := aggOutSchema(t, wa.Schema(), groupCols, stAggs)
	agg, err := NewStreamingHashAggregate(wa.Schema(), groupCols, stAggs, out, AggStreamOptions{Emit: mode, EventTimeCol: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx := newTestCtx(mem)
	gen := watermark.NewGenerator(delay)
	wm := watermark.MinTime
	var kept [][]Datum // windowed rows the oracle keeps
	var wantLate int64
	result := map[string][]Datum{} // update mode: upserts; append mode: union
	var last [][]Datum             // complete mode: last output
	for _, ep := range stSplit(r, len(rows), 60) {
		ctx.Watermark = wm
		for _, row := range rows[ep[0]:ep[1]] {
			for _, w := range stNaiveWindows(row, 1, size, slide) {
				if wm != watermark.MinTime && w[5].(int64) <= int64(wm) {
					wantLate++
				} else {
					kept = append(kept, w)
				}
			}
		}
		for lo := ep[0]; lo < ep[1]; {
			hi := min(ep[1], lo+1+r.IntN(40))
			rec := stRecord(t, mem, stTestSchema, rows[lo:hi])
			err := wa.Push(ctx, 0, Delta{Rec: rec}, func(d Delta) error { return agg.Push(ctx, 0, d, nil) })
			rec.Release()
			if err != nil {
				t.Fatal(err)
			}
			lo = hi
		}
		var emitted [][]Datum
		if err := agg.Flush(ctx, wm, func(d Delta) error { emitted = append(emitted, stRows(d.Rec)...); return nil }); err != nil {
			t.Fatal(err)
		}
		stApply(t, mode, result, &last, emitted, len(groupCols))
		for _, row := range rows[ep[0]:ep[1]] {
			if row[1] != nil {
				gen.Observe(watermark.Time(row[1].(int64)))
			}
		}
		wm = max(wm, gen.Current())
	}
	if wantLate == 0 {
		t.Errorf("the input has no late rows: the test does not exercise dropping")
	}
	if agg.DroppedLate() != wantLate {
		t.Errorf("DroppedLate = %d, want %d", agg.DroppedLate(), wantLate)
	}
	want, err := refAggregate(wa.Schema(), kept, groupCols, stAggs, out)
	if err != nil {
		t.Fatal(err)
	}
	switch mode {
	case AggEmitAll:
		compareAggRows(t, "complete mode, last output", len(groupCols), out, last, want)
	case AggEmitChanged:
		compareAggRows(t, "update mode, upserted", len(groupCols), out, stValues(result), want)
	case AggEmitClosed:
		if len(result) == 0 {
			t.Errorf("append mode emitted nothing before the end of input")
		}
		var final [][]Datum
		if err := agg.Flush(ctx, watermark.MaxTime, func(d Delta) error { final = append(final, stRows(d.Rec)...); return nil }); err != nil {
			t.Fatal(err)
		}
		stApply(t, mode, result, &last, final, len(groupCols))
		compareAggRows(t, "append mode, union", len(groupCols), out, stValues(result), want)
		if agg.StateRows() != 0 {
			t.Errorf("after Flush(MaxTime) StateRows = %d, want 0", agg.StateRows())
		}
	}
	agg.Close()
}

// stApply folds one Flush's output into the sink state of the mode: complete replaces, update
// upserts, append inserts and fails on a group emitted twice.
func stApply(t *testing.T, mode AggEmit, result map[string][]Datum, last *[][]Datum, emitted [][]Datum, nkeys int) {
	t.Helper()
	switch mode {
	case AggEmitAll:
		*last = emitted
	case AggEmitChanged:
		for _, row := range emitted {
			result[stKey(row, nkeys)] = row
		}
	case AggEmitClosed:
		for _, row := range emitted {
			k := stKey(row, nkeys)
			if _, dup := result[k]; dup {
				t.Fatalf("append mode emitted group %s twice", k)
			}
			result[k] = row
		}
	}
}

func stValues(m map[string][]Datum) [][]Datum {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([][]Datum, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

// TestStreamingSparkWatermarkExample reproduces the example of Spark's programming guide
// ("Handling Late Data and Watermarking"): words counted in 10-minute windows sliding every 5
// minutes with a 10-minute watermark delay. The guide's last trigger (12:20-12:25) receives
// (12:21 owl), (12:04 donkey), (12:17 owl) and treats the donkey as too late because the watermark
// is already 12:11; with a watermark fixed per epoch that is the same as running 12:21 owl in an
// epoch of its own, so that trigger is split in two epochs here (4a, 4b).
func TestStreamingSparkWatermarkExample(t *testing.T) {
	const minute = int64(60_000_000)
	at := func(h, m int64) int64 { return (h*60 + m) * minute }
	schema := arrow.NewSchema([]arrow.Field{{Name: "ts", Type: Timestamp}, {Name: "word", Type: String}}, nil)
	epochs := [][][]Datum{
		{{at(12, 7), "dog"}, {at(12, 8), "owl"}},
		{{at(12, 14), "dog"}, {at(12, 9), "cat"}},
		{{at(12, 15), "cat"}, {at(12, 8), "dog"}, {at(12, 13), "owl"}},
		{{at(12, 21), "owl"}},
		{{at(12, 4), "donkey"}, {at(12, 17), "owl"}},
	}
	row := func(h0, m0, h1, m1 int64, w string, n int64) string {
		return fmt.Sprintf("%d-%d %s %d", at(h0, m0), at(h1, m1), w, n)
	}
	wantUpdate := [][]string{
		{row(12, 0, 12, 10, "dog", 1), row(12, 5, 12, 15, "dog", 1), row(12, 0, 12, 10, "owl", 1), row(12, 5, 12, 15, "owl", 1)},
		{row(12, 5, 12, 15, "dog", 2), row(12, 10, 12, 20, "dog", 1), row(12, 0, 12, 10, "cat", 1), row(12, 5, 12, 15, "cat", 1)},
		{row(12, 10, 12, 20, "cat", 1), row(12, 15, 12, 25, "cat", 1), row(12, 0, 12, 10, "dog", 2), row(12, 5, 12, 15, "dog", 3),
			row(12, 5, 12, 15, "owl", 2), row(12, 10, 12, 20, "owl", 1)},
		{row(12, 15, 12, 25, "owl", 1), row(12, 20, 12, 30, "owl", 1)},
		{row(12, 10, 12, 20, "owl", 2), row(12, 15, 12, 25, "owl", 2)},
	}
	wantAppend := [][]string{{}, {}, {}, {},
		{row(12, 0, 12, 10, "dog", 2), row(12, 0, 12, 10, "owl", 1), row(12, 0, 12, 10, "cat", 1)}}
	for _, mode := range []AggEmit{AggEmitChanged, AggEmitClosed} {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		wa, err := NewWindowAssign(schema, 0, 10*minute, 5*minute)
		if err != nil {
			t.Fatal(err)
		}
		out := arrow.NewSchema([]arrow.Field{{Name: "window_start", Type: Timestamp}, {Name: "window_end", Type: Timestamp},
			{Name: "word", Type: String}, {Name: "count", Type: Int64}}, nil)
		agg, err := NewStreamingHashAggregate(wa.Schema(), []int{2, 3, 1}, []AggSpec{{Kind: AggCountStar}}, out,
			AggStreamOptions{Emit: mode, EventTimeCol: 1})
		if err != nil {
			t.Fatal(err)
		}
		ctx := newTestCtx(mem)
		gen := watermark.NewGenerator(10 * minute)
		wm := watermark.MinTime
		wantWm := []int64{0, at(11, 58), at(12, 4), at(12, 5), at(12, 11)}
		for e, rows := range epochs {
			if e > 0 && int64(wm) != wantWm[e] {
				t.Fatalf("epoch %d: watermark %s, the guide has %s", e+1, wm, watermark.Time(wantWm[e]))
			}
			ctx.Watermark = wm
			rec := stRecord(t, mem, schema, rows)
			err := wa.Push(ctx, 0, Delta{Rec: rec}, func(d Delta) error { return agg.Push(ctx, 0, d, nil) })
			rec.Release()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			err = agg.Flush(ctx, wm, func(d Delta) error {
				for _, r := range stRows(d.Rec) {
					got = append(got, fmt.Sprintf("%d-%d %s %d", r[0], r[1], r[2], r[3]))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			want := wantUpdate[e]
			if mode == AggEmitClosed {
				want = wantAppend[e]
			}
			sort.Strings(got)
			want = append([]string{}, want...)
			sort.Strings(want)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%s mode, epoch %d: got\n%s\nwant\n%s", mode, e+1, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			for _, r := range rows {
				gen.Observe(watermark.Time(r[0].(int64)))
			}
			wm = gen.Current()
		}
		if agg.DroppedLate() != 2 { // the donkey's two windows
			t.Errorf("%s mode: DroppedLate = %d, want 2", mode, agg.DroppedLate())
		}
		agg.Close()
		mem.AssertSize(t, 0)
	}
}

// TestStreamingAggregateMemoryFlat runs 1,000 epochs with a moving watermark in update and append
// mode: the state must stay bounded by the open windows.
func TestStreamingAggregateMemoryFlat(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: String}, {Name: "we", Type: Timestamp}, {Name: "v", Type: Int64}}, nil)
	out := arrow.NewSchema([]arrow.Field{{Name: "k", Type: String}, {Name: "we", Type: Timestamp},
		{Name: "n", Type: Int64, Nullable: true}, {Name: "d", Type: Int64, Nullable: true}}, nil)
	aggs := []AggSpec{{Kind: AggCountStar}, {Kind: AggCount, Col: 2, Distinct: true}}
	for _, mode := range []AggEmit{AggEmitChanged, AggEmitClosed} {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		agg, err := NewStreamingHashAggregate(schema, []int{0, 1}, aggs, out, AggStreamOptions{Emit: mode, EventTimeCol: 1})
		if err != nil {
			t.Fatal(err)
		}
		ctx := newTestCtx(mem)
		var maxRows, maxBytes, rowsAt100, bytesAt100 int64
		emitted := int64(0)
		for e := int64(0); e < 1000; e++ {
			ctx.Watermark = watermark.Time(e - 2)
			var rows [][]Datum
			for i := int64(0); i < 50; i++ {
				rows = append(rows, []Datum{fmt.Sprintf("key-%d", (e*50+i)%97), e + i%3, i})
			}
			rec := stRecord(t, mem, schema, rows)
			if err := agg.Push(ctx, 0, Delta{Rec: rec}, nil); err != nil {
				t.Fatal(err)
			}
			rec.Release()
			if err := agg.Flush(ctx, watermark.Time(e-2), func(d Delta) error { emitted += d.Rec.NumRows(); return nil }); err != nil {
				t.Fatal(err)
			}
			if e == 100 {
				rowsAt100, bytesAt100 = agg.StateRows(), agg.StateBytes()
			}
			if e >= 100 {
				maxRows, maxBytes = max(maxRows, agg.StateRows()), max(maxBytes, agg.StateBytes())
			}
		}
		if maxRows > 2*rowsAt100 || maxBytes > 2*bytesAt100 {
			t.Errorf("%s mode: state grew from %d groups / %d bytes at epoch 100 to %d / %d", mode, rowsAt100, bytesAt100, maxRows, maxBytes)
		}
		if rowsAt100 > 5*97 {
			t.Errorf("%s mode: %d groups held, at most 5 windows of 97 keys are open", mode, rowsAt100)
		}
		if emitted == 0 {
			t.Errorf("%s mode: nothing emitted", mode)
		}
		agg.Close()
		mem.AssertSize(t, 0)
	}
}

func TestStreamingAggregateRejectsBadOptions(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: Int64}, {Name: "we", Type: Timestamp}}, nil)
	out := arrow.NewSchema([]arrow.Field{{Name: "k", Type: Int64}, {Name: "we", Type: Timestamp}, {Name: "n", Type: Int64}}, nil)
	for _, c := range []struct {
		opts AggStreamOptions
		want string
	}{
		{AggStreamOptions{Emit: AggEmitClosed, EventTimeCol: -1}, "needs an event-time group column"},
		{AggStreamOptions{Emit: AggEmitChanged, EventTimeCol: 0}, `"k" has type BIGINT, want TIMESTAMP`},
		{AggStreamOptions{Emit: AggEmitChanged, EventTimeCol: 2}, "not one of the 2 group columns"},
		{AggStreamOptions{Emit: AggEmit(7), EventTimeCol: 1}, "unknown emission mode 7"},
	} {
		_, err := NewStreamingHashAggregate(schema, []int{0, 1}, []AggSpec{{Kind: AggCountStar}}, out, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got error %v, want one containing %q", c.opts, err, c.want)
		}
	}
}
