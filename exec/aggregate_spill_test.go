package exec

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/watermark"
)

// mapSpillStore is an in-memory SpillStore for the operator's tests (state.SpillStore, the
// Pebble one, is tested in state/ and end to end in the engine's tests).
type mapSpillStore struct {
	m      map[string][]byte
	closed bool
}

func (s *mapSpillStore) Write(keys, vals, dels [][]byte) error {
	for i, k := range keys {
		s.m[string(k)] = append([]byte(nil), vals[i]...)
	}
	for _, k := range dels {
		delete(s.m, string(k))
	}
	return nil
}

func (s *mapSpillStore) Lookup(keys [][]byte, found func(int, []byte) error) error {
	for i, k := range keys {
		if v, ok := s.m[string(k)]; ok {
			if err := found(i, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *mapSpillStore) Scan(fn func(k, v []byte) error) error {
	keys := make([]string, 0, len(s.m))
	for k := range s.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := fn([]byte(k), s.m[k]); err != nil {
			return err
		}
	}
	return nil
}

func (s *mapSpillStore) Close() error { s.closed = true; return nil }

// spillTestAggs cover every accumulator family: count(*), count, sum (BIGINT), avg, min/max of
// BIGINT and VARCHAR, count(DISTINCT).
var spillTestAggs = []AggSpec{
	{Kind: AggCountStar}, {Kind: AggCount, Col: 2}, {Kind: AggSum, Col: 2}, {Kind: AggAvg, Col: 2},
	{Kind: AggMin, Col: 2}, {Kind: AggMax, Col: 3}, {Kind: AggCount, Distinct: true, Col: 2},
}

func spillOutSchema(t *testing.T, in *arrow.Schema, groupCols []int, aggs []AggSpec) *arrow.Schema {
	t.Helper()
	var fs []arrow.Field
	for _, c := range groupCols {
		fs = append(fs, arrow.Field{Name: in.Field(c).Name, Type: in.Field(c).Type, Nullable: true})
	}
	for i, a := range aggs {
		var arg arrow.DataType
		if a.Kind != AggCountStar {
			arg = in.Field(a.Col).Type
		}
		rt, err := AggResultType(a.Kind, arg)
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, arrow.Field{Name: fmt.Sprintf("a%d", i), Type: rt, Nullable: true})
	}
	return arrow.NewSchema(fs, nil)
}

// spillRows makes n rows (k BIGINT, ts TIMESTAMP, v BIGINT, s VARCHAR) whose k and s take nkeys
// values each: a tenth of the rows hit 100 hot keys, the rest are spread over all keys; ts is 0
// or 1 (so (k, ts) has about 2*nkeys groups); a few keys and values are NULL.
func spillRows(r *rand.Rand, n, nkeys int) [][]Datum {
	rows := make([][]Datum, n)
	for i := range rows {
		var k Datum = int64(r.IntN(nkeys))
		if r.IntN(10) == 0 {
			k = int64(r.IntN(100))
		}
		if r.IntN(5000) == 0 {
			k = nil
		}
		var v Datum = int64(r.IntN(50) - 10)
		if r.IntN(20) == 0 {
			v = nil
		}
		s := Datum(fmt.Sprintf("s%06d", r.IntN(nkeys)))
		if r.IntN(10) == 0 {
			s = fmt.Sprintf("s%06d", r.IntN(100))
		}
		rows[i] = []Datum{k, int64(r.IntN(2)), v, s}
	}
	return rows
}

// spillKeyOf is the key of an output or input row for the test's maps.
func spillKeyOf(row []Datum, cols []int) string {
	var b []byte
	for _, c := range cols {
		b = fmt.Appendf(b, "%v|", row[c])
	}
	return string(b)
}

// TestSpillingAggregateEqualsBatch runs an update-mode and a complete-mode GROUP BY over 50K
// keys with a budget of 1 MiB (so most groups live in the store), snapshots and
// restores into a fresh operator halfway, and compares the final result with the batch
// aggregate over all the input.
func TestSpillingAggregateEqualsBatch(t *testing.T) {
	for _, tc := range []struct {
		name      string
		groupCols []int
	}{{"bigint key", []int{0}}, {"varchar key", []int{3}}, {"bigint and timestamp keys", []int{0, 1}}} {
		t.Run(tc.name, func(t *testing.T) {
			for _, mode := range []AggEmit{AggEmitChanged, AggEmitAll} {
				t.Run(mode.String(), func(t *testing.T) { spillRun(t, tc.groupCols, mode) })
			}
		})
	}
}

func spillRun(t *testing.T, groupCols []int, mode AggEmit) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	ctx := &Ctx{Context: context.Background(), Mem: mem, Watermark: watermark.MinTime}
	in := stTestSchema
	out := spillOutSchema(t, in, groupCols, spillTestAggs)
	const budget = 1 << 20
	const nkeys = 50_000
	r := rand.New(rand.NewPCG(7, uint64(len(groupCols))))
	rows := spillRows(r, 120_000, nkeys)

	var stores []*mapSpillStore
	newOp := func() *SpillingAggregate {
		h, err := NewStreamingHashAggregate(in, groupCols, spillTestAggs, out, AggStreamOptions{Emit: mode, EventTimeCol: -1})
		if err != nil {
			t.Fatal(err)
		}
		s, err := NewSpillingAggregate(h, SpillOptions{Budget: budget, Open: func() (SpillStore, error) {
			st := &mapSpillStore{m: map[string][]byte{}}
			stores = append(stores, st)
			return st, nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	op := newOp()
	outKeys := make([]int, len(groupCols))
	for i := range outKeys {
		outKeys[i] = i
	}
	result := map[string][]Datum{} // update mode: the last upsert of every key
	var last [][]Datum             // complete mode: the last Flush
	flush := func() {
		var got [][]Datum
		err := op.Flush(ctx, watermark.MinTime, func(d Delta) error {
			got = append(got, stRows(d.Rec)...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range got {
			result[spillKeyOf(row, outKeys)] = row
		}
		last = got
		// The driver checkpoints every epoch after its Flush; the changes' groups are clean
		// then and may be spilled.
		_, ups, dels, err := op.SnapshotChanges(ctx)
		if err != nil {
			t.Fatal(err)
		}
		releaseRecords(ups)
		releaseRecords(dels)
		if b := op.StateBytes(); b > budget {
			t.Fatalf("after the epoch's checkpoint the state holds %d bytes in memory, over the budget of %d", b, budget)
		}
	}
	const batch, perEpoch = 2000, 10
	var reads, writes, spills int64
	for i, start := 0, 0; start < len(rows); i++ {
		end := min(len(rows), start+batch)
		rec := stRecord(t, mem, in, rows[start:end])
		if err := op.Push(ctx, 0, Delta{Rec: rec}, nil); err != nil {
			t.Fatal(err)
		}
		rec.Release()
		start = end
		if i%perEpoch == perEpoch-1 || start == len(rows) {
			flush()
		}
		if i == 3*perEpoch-1 {
			// Restart after the Flush of epoch 3 (snapshots are taken between epochs): the
			// snapshot holds every group; a fresh operator restores it within its budget.
			st := op.SpillStats()
			reads, writes, spills = st.Reads, st.Writes, st.Spills
			schema, recs, err := op.SnapshotState(ctx)
			if err != nil {
				t.Fatal(err)
			}
			_ = schema
			total := op.StateRows()
			op.Close()
			op = newOp()
			if err := op.RestoreState(ctx, recs); err != nil {
				t.Fatal(err)
			}
			releaseRecords(recs)
			if op.StateRows() != total {
				t.Fatalf("restored %d groups, the snapshot had %d", op.StateRows(), total)
			}
			if b := op.StateBytes(); b > budget {
				t.Fatalf("restore holds %d bytes in memory, over the budget of %d", b, budget)
			}
		}
	}
	st := op.SpillStats()
	reads, writes, spills = reads+st.Reads, writes+st.Writes, spills+st.Spills
	if spills == 0 || writes == 0 || reads == 0 || st.SpilledGroups == 0 {
		t.Fatalf("the budget of %d bytes did not make the operator spill and read back: %+v", budget, st)
	}
	t.Logf("%s: %d groups, %d spilled now; %d spills, %d groups written, %d read back", mode, op.StateRows(), st.SpilledGroups, spills, writes, reads)

	// Oracle: the batch aggregate over every row.
	batchOp, err := NewHashAggregate(in, groupCols, spillTestAggs, out)
	if err != nil {
		t.Fatal(err)
	}
	rec := stRecord(t, mem, in, rows)
	if err := batchOp.Push(ctx, 0, Delta{Rec: rec}, nil); err != nil {
		t.Fatal(err)
	}
	rec.Release()
	want := map[string][]Datum{}
	if err := batchOp.Flush(ctx, watermark.MaxTime, func(d Delta) error {
		for _, row := range stRows(d.Rec) {
			want[spillKeyOf(row, outKeys)] = row
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	batchOp.Close()
	got := result
	if mode == AggEmitAll {
		got = map[string][]Datum{}
		for _, row := range last {
			k := spillKeyOf(row, outKeys)
			if _, dup := got[k]; dup {
				t.Fatalf("complete mode emitted key %s twice", k)
			}
			got[k] = row
		}
	}
	spillSameResult(t, got, want)
	op.Close()
	for _, s := range stores {
		if !s.closed {
			t.Fatal("Close left a spill store open")
		}
	}
	if mem.CurrentAlloc() != 0 {
		t.Fatalf("%d bytes of Arrow memory leaked", mem.CurrentAlloc())
	}
}

func spillSameResult(t *testing.T, got, want map[string][]Datum) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d groups, the batch aggregate has %d", len(got), len(want))
	}
	bad := 0
	for k, w := range want {
		g, ok := got[k]
		if !ok || fmt.Sprint(g) != fmt.Sprint(w) {
			if bad++; bad <= 5 {
				t.Errorf("group %s: got %v, want %v", k, g, w)
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d groups differ from the batch aggregate", bad)
	}
}

// TestSpillCodecRoundTrip: every column type a snapshot row can hold comes back equal, NULLs
// included, and a damaged row is an error, not a panic or a wrong value.
func TestSpillCodecRoundTrip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	dec := &arrow.Decimal128Type{Precision: 20, Scale: 2}
	types := []arrow.DataType{Int64, Float64, String, Bool, Timestamp, Date, dec, arrow.ListOf(Int64), arrow.ListOf(String)}
	var fs []arrow.Field
	for i, ty := range types {
		fs = append(fs, arrow.Field{Name: fmt.Sprintf("c%d", i), Type: ty, Nullable: true})
	}
	schema := arrow.NewSchema(fs, nil)
	if err := spillCodecSupports(schema); err != nil {
		t.Fatal(err)
	}
	codec := spillRowCodec{schema: schema}
	sp := &aggSpill{schema: schema}
	ctx := &Ctx{Context: context.Background(), Mem: mem}
	src := sp.builders(ctx)
	r := rand.New(rand.NewPCG(3, 4))
	const n = 200
	for row := 0; row < n; row++ {
		for c, b := range src {
			if r.IntN(4) == 0 {
				b.AppendNull()
				continue
			}
			if err := spillAppendRandom(r, b, types[c]); err != nil {
				t.Fatal(err)
			}
		}
	}
	orig := buildRecord(schema, src, n)
	defer orig.Release()
	releaseBuilders(src)
	dst := sp.builders(ctx)
	var encoded [][]byte
	for row := 0; row < n; row++ {
		b := codec.appendRow(nil, orig.Columns(), row)
		encoded = append(encoded, b)
		if err := codec.decodeRow(b, dst); err != nil {
			t.Fatalf("row %d: %v", row, err)
		}
	}
	back := buildRecord(schema, dst, n)
	defer back.Release()
	releaseBuilders(dst)
	if !array.RecordEqual(orig, back) {
		t.Fatalf("decoded rows differ:\n%v\n%v", orig, back)
	}
	check := sp.builders(ctx)
	defer releaseBuilders(check)
	for _, b := range encoded[:20] {
		for cut := 0; cut < len(b); cut++ {
			if err := codec.decodeRow(b[:cut], check); err == nil {
				t.Fatalf("a row cut to %d of %d bytes decoded without an error", cut, len(b))
			}
			for _, c := range check { // drop what the failed decode appended
				c.Release()
			}
			check = sp.builders(ctx)
		}
		if err := codec.decodeRow(append(append([]byte(nil), b...), 1), check); err == nil {
			t.Fatal("a row with a byte too many decoded without an error")
		}
	}
}

func spillAppendRandom(r *rand.Rand, b array.Builder, ty arrow.DataType) error {
	switch ty.ID() {
	case arrow.LIST:
		lb := b.(*array.ListBuilder)
		lb.Append(true)
		for k := r.IntN(4); k > 0; k-- {
			if err := spillAppendRandom(r, lb.ValueBuilder(), ty.(*arrow.ListType).Elem()); err != nil {
				return err
			}
		}
		return nil
	case arrow.INT64, arrow.TIMESTAMP:
		return AppendDatum(b, r.Int64()-r.Int64())
	case arrow.FLOAT64:
		return AppendDatum(b, r.NormFloat64())
	case arrow.STRING:
		return AppendDatum(b, fmt.Sprintf("v%d\x00é", r.IntN(1000)))
	case arrow.BOOL:
		return AppendDatum(b, r.IntN(2) == 0)
	case arrow.DATE32:
		return AppendDatum(b, int32(r.IntN(40000)-20000))
	case arrow.DECIMAL128:
		return AppendDatum(b, decimal128.New(r.Int64N(1000)-500, r.Uint64()))
	}
	return fmt.Errorf("no random value for %s", ty)
}

// TestSpillRefusals: operators a budget cannot bound are refused with the reason.
func TestSpillRefusals(t *testing.T) {
	in := stTestSchema
	open := func() (SpillStore, error) { return &mapSpillStore{m: map[string][]byte{}}, nil }
	for _, tc := range []struct {
		name      string
		groupCols []int
		opts      AggStreamOptions
		want      string
	}{
		{"ttl", []int{0}, AggStreamOptions{Emit: AggEmitChanged, EventTimeCol: -1, TTL: time.Hour}, "state_ttl"},
		{"window", []int{0, 1}, AggStreamOptions{Emit: AggEmitClosed, EventTimeCol: 1}, "watermark"},
		{"global", nil, AggStreamOptions{Emit: AggEmitChanged, EventTimeCol: -1}, "without GROUP BY"},
	} {
		aggs := []AggSpec{{Kind: AggCountStar}}
		h, err := NewStreamingHashAggregate(in, tc.groupCols, aggs, spillOutSchema(t, in, tc.groupCols, aggs), tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := NewSpillingAggregate(h, SpillOptions{Budget: 1 << 20, Open: open}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error mentioning %q", tc.name, err, tc.want)
		}
	}
}
