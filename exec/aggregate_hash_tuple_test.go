package exec

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The oracle of these tests is the serialized-key table (serialTable), which serves every key
// shape: both tables number groups densely in order of first appearance, so on the same input they
// must return the same group id for every row and the same key values for every group, also after
// compactions. The end-to-end aggregate results of the tuple table are checked against the naive
// reference by TestHashAggregateMatchesReference (its multi-column key sets of fixed-width columns
// and one VARCHAR now run on it) and TestTupleTableAggregateMatchesReference below.

func TestNewGroupTableChoosesTupleTable(t *testing.T) {
	cases := []struct {
		types []arrow.DataType
		want  string
	}{
		{[]arrow.DataType{String, Timestamp, Timestamp}, "*exec.tupleTable[[4]uint64]"},
		{[]arrow.DataType{Int64, Timestamp, Timestamp}, "*exec.tupleTable[[4]uint64]"},
		{[]arrow.DataType{Bool, Float64}, "*exec.tupleTable[[3]uint64]"},
		{[]arrow.DataType{Date, String}, "*exec.tupleTable[[3]uint64]"},
		{[]arrow.DataType{String, Int64, Timestamp, Timestamp}, "*exec.tupleTable[[5]uint64]"},
		{[]arrow.DataType{Int64, Int64, Timestamp, Timestamp}, "*exec.serialTable"}, // four fixed-width columns
		{[]arrow.DataType{String, String}, "*exec.serialTable"},
		{[]arrow.DataType{Decimal(5, 2), Int64}, "*exec.serialTable"},
		{[]arrow.DataType{Null, Int64}, "*exec.serialTable"},
		{[]arrow.DataType{Int64}, "*exec.int64Table"},
		{[]arrow.DataType{String}, "*exec.stringTable"},
	}
	for _, c := range cases {
		if got := fmt.Sprintf("%T", newGroupTable(c.types)); got != c.want {
			t.Errorf("newGroupTable(%v) is %s, want %s", c.types, got, c.want)
		}
	}
}

// tupleTestKeySets are key column sets of aggTestSchema the tuple table serves: every fixed-width
// type, with and without the VARCHAR, including DOUBLE keys with -0.0, 0.0 and several NaNs.
var tupleTestKeySets = [][]int{
	{4, 5}, {1, 4}, {4, 2}, {0, 2}, {2, 4, 1, 6}, {7, 5, 4, 2}, {1, 5, 7}, {6, 0}, {5, 4},
}

// assignBoth assigns the rows of slice s with both tables and fails on the first difference.
func assignBoth(t *testing.T, label string, tt, st groupTable, s arrow.RecordBatch, keys []int) {
	t.Helper()
	cols := make([]arrow.Array, len(keys))
	for i, c := range keys {
		cols[i] = s.Column(c)
	}
	n := int(s.NumRows())
	got, want := make([]uint32, n), make([]uint32, n)
	tt.assign(cols, n, got)
	st.assign(cols, n, want)
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: row %d: tuple table gave group %d, serialized-key table %d", label, i, got[i], want[i])
		}
	}
	if tt.numGroups() != st.numGroups() {
		t.Fatalf("%s: %d groups, serialized-key table has %d", label, tt.numGroups(), st.numGroups())
	}
}

// compareKeyColumns checks both tables' key columns for groups gids.
func compareKeyColumns(t *testing.T, label string, mem memory.Allocator, tt, st groupTable, gids []uint32) {
	t.Helper()
	got, want := tt.keyColumns(mem, gids), st.keyColumns(mem, gids)
	defer func() {
		for _, a := range append(got, want...) {
			a.Release()
		}
	}()
	for c := range want {
		if !arrow.TypeEqual(got[c].DataType(), want[c].DataType()) || got[c].Len() != len(gids) {
			t.Fatalf("%s: key column %d is %s of %d rows, want %s of %d", label, c, got[c].DataType(), got[c].Len(), want[c].DataType(), len(gids))
		}
		for k := range gids {
			if g, w := aggCanon(ValueAt(got[c], k)), aggCanon(ValueAt(want[c], k)); g != w {
				t.Fatalf("%s: group %d key column %d: got %s, want %s", label, gids[k], c, g, w)
			}
		}
	}
}

func TestTupleTableMatchesSerialTable(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r := rand.New(rand.NewPCG(7, 8))
	rec, _ := aggRandomRecord(t, mem, r, 4000)
	defer rec.Release()
	for _, keys := range tupleTestKeySets {
		types := make([]arrow.DataType, len(keys))
		for i, c := range keys {
			types[i] = aggTestSchema.Field(c).Type
		}
		for _, batch := range []int{1, 7, 1000, 4000} { // 4000: two chunks of tupleChunk
			label := fmt.Sprintf("keys %v batch %d", keys, batch)
			tt, st := newTupleTable(types), newSerialKeyTable(types)
			for off := int64(0); off < rec.NumRows(); off += int64(batch) {
				s := rec.NewSlice(off, min(rec.NumRows(), off+int64(batch)))
				assignBoth(t, label, tt, st, s, keys)
				s.Release()
				// Every 1000 rows, evict a random half of the groups from both tables.
				if end := off + int64(batch); end%1000 < int64(batch) && end < rec.NumRows() {
					var keep []uint32
					remap := make([]int32, tt.numGroups())
					for g := range remap {
						remap[g] = -1
						if r.IntN(2) == 0 {
							remap[g] = int32(len(keep))
							keep = append(keep, uint32(g))
						}
					}
					tt.compact(keep, remap)
					st.compact(keep, remap)
				}
			}
			all := make([]uint32, tt.numGroups())
			for g := range all {
				all[g] = uint32(g)
			}
			compareKeyColumns(t, label, mem, tt, st, all)
			if tt.bytes() <= 0 {
				t.Errorf("%s: bytes() = %d", label, tt.bytes())
			}
		}
	}
}

func TestTupleTableAggregateMatchesReference(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := newTestCtx(mem)
	rec, rows := aggRandomRecord(t, mem, rand.New(rand.NewPCG(9, 10)), 2500)
	defer rec.Release()
	aggs := aggAllSpecs()
	for _, keys := range tupleTestKeySets {
		out := aggOutSchema(t, aggTestSchema, keys, aggs)
		want, err := refAggregate(aggTestSchema, rows, keys, aggs, out)
		if err != nil {
			t.Fatal(err)
		}
		op, err := NewHashAggregate(aggTestSchema, keys, aggs, out)
		if err != nil {
			t.Fatal(err)
		}
		if tn := fmt.Sprintf("%T", op.(*HashAggregate).table); !strings.HasPrefix(tn, "*exec.tupleTable") {
			t.Fatalf("keys %v: aggregate uses %s, want the tuple table", keys, tn)
		}
		got, err := runAgg(t, ctx, op, rec, 333)
		if err != nil {
			t.Fatal(err)
		}
		compareAggRows(t, fmt.Sprintf("keys %v", keys), len(keys), out, got, want)
		op.Close()
	}
}

// TestTupleTableDictionaryFollowsLiveGroups evicts every group of a string key that is new in each
// "window": the long-string dictionary must shrink with the groups, and ids must keep matching the
// serialized-key table across the renumbering.
func TestTupleTableDictionaryFollowsLiveGroups(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "s", Type: String, Nullable: true}, {Name: "w", Type: Timestamp}}, nil)
	types := []arrow.DataType{String, Timestamp}
	tt, st := newTupleTable(types), newSerialKeyTable(types)
	const perWindow = 3000
	for w := 0; w < 6; w++ {
		sb, tb := array.NewStringBuilder(mem), array.NewTimestampBuilder(mem, Timestamp.(*arrow.TimestampType))
		for i := 0; i < perWindow; i++ {
			switch {
			case i%97 == 0:
				sb.AppendNull()
			case i%2 == 0:
				sb.Append(fmt.Sprintf("s-%d", i%50)) // present in every window, inline (<= 8 bytes)
			default:
				sb.Append(fmt.Sprintf("session-%d-%d", w, i)) // unique to this window, long
			}
			tb.Append(arrow.Timestamp(w))
		}
		cols := []arrow.Array{sb.NewArray(), tb.NewArray()}
		sb.Release()
		tb.Release()
		rec := array.NewRecordBatch(schema, cols, perWindow)
		for _, c := range cols {
			c.Release()
		}
		assignBoth(t, fmt.Sprintf("window %d", w), tt, st, rec, []int{0, 1})
		rec.Release()
		// Close every window but the current one.
		var keep []uint32
		remap := make([]int32, tt.numGroups())
		kc := st.keyColumns(mem, allGroups(st.numGroups()))
		wcol := fixedValues[int64](kc[1])
		for g := range remap {
			remap[g] = -1
			if wcol[g] == int64(w) {
				remap[g] = int32(len(keep))
				keep = append(keep, uint32(g))
			}
		}
		for _, a := range kc {
			a.Release()
		}
		tt.compact(keep, remap)
		st.compact(keep, remap)
		compareKeyColumns(t, fmt.Sprintf("window %d", w), mem, tt, st, allGroups(tt.numGroups()))
	}
	dict := tt.(*tupleTable[[3]uint64]).long.len()
	// Live long strings: one window's 1500 unique ones (the shared ones and NULL are inline).
	// Without compaction the dictionary would hold 6 windows' worth (9,000).
	if dict > 2*perWindow/2 {
		t.Errorf("long-string dictionary holds %d strings after eviction, live groups use %d", dict, perWindow/2)
	}
}

func allGroups(n int) []uint32 {
	g := make([]uint32, n)
	for i := range g {
		g[i] = uint32(i)
	}
	return g
}
