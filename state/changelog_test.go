package state

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// orderedState is the oracle: keys in the order an operator's dense ids keep them (an update
// stays in place, a new or re-created key goes last, a delete removes).
type orderedState struct {
	keys []string
	vals map[string]int64
}

func (s *orderedState) clone() *orderedState {
	c := &orderedState{keys: slices.Clone(s.keys), vals: map[string]int64{}}
	for k, v := range s.vals {
		c.vals[k] = v
	}
	return c
}

func (s *orderedState) upsert(k string, v int64) {
	if _, ok := s.vals[k]; !ok {
		s.keys = append(s.keys, k)
	}
	s.vals[k] = v
}

func (s *orderedState) remove(k string) {
	if _, ok := s.vals[k]; ok {
		delete(s.vals, k)
		s.keys = slices.DeleteFunc(s.keys, func(x string) bool { return x == k })
	}
}

func (s *orderedState) String() string {
	var b strings.Builder
	for _, k := range s.keys {
		fmt.Fprintf(&b, "%s=%d ", k, s.vals[k])
	}
	return b.String()
}

var testStateSchema = arrow.NewSchema([]arrow.Field{
	{Name: "g", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "v", Type: arrow.PrimitiveTypes.Int64},
}, nil)

// testKey splits "name/number" (name "-" is NULL) into the two key columns.
func testKeyRecord(mem memory.Allocator, schema *arrow.Schema, keys []string, vals []int64) arrow.RecordBatch {
	gb := array.NewStringBuilder(mem)
	nb := array.NewInt64Builder(mem)
	vb := array.NewInt64Builder(mem)
	defer gb.Release()
	defer nb.Release()
	defer vb.Release()
	for i, k := range keys {
		var g string
		var n int64
		fmt.Sscanf(strings.Replace(k, "/", " ", 1), "%s %d", &g, &n)
		if g == "-" {
			gb.AppendNull()
		} else {
			gb.Append(g)
		}
		nb.Append(n)
		if vals != nil {
			vb.Append(vals[i])
		}
	}
	cols := []arrow.Array{gb.NewArray(), nb.NewArray()}
	if vals != nil {
		cols = append(cols, vb.NewArray())
	}
	rec := array.NewRecordBatch(schema, cols, int64(len(keys)))
	for _, c := range cols {
		c.Release()
	}
	return rec
}

func readOrdered(t *testing.T, recs []arrow.RecordBatch) *orderedState {
	t.Helper()
	s := &orderedState{vals: map[string]int64{}}
	for _, r := range recs {
		g := r.Column(0).(*array.String)
		n := r.Column(1).(*array.Int64)
		v := r.Column(2).(*array.Int64)
		for i := 0; i < int(r.NumRows()); i++ {
			name := "-"
			if g.IsValid(i) {
				name = g.Value(i)
			}
			k := fmt.Sprintf("%s/%d", name, n.Value(i))
			if _, dup := s.vals[k]; dup {
				t.Fatalf("merged state holds key %s twice", k)
			}
			s.keys = append(s.keys, k)
			s.vals[k] = v.Value(i)
		}
	}
	return s
}

// TestChangelogMergeMatchesModel writes random changes (updates, new keys, deletes, re-created
// keys, NULL key parts) epoch by epoch, compacts at random epochs and removes old epochs, and
// checks every retained epoch's state against the model, order included.
func TestChangelogMergeMatchesModel(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	d, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(7))
	model := &orderedState{vals: map[string]int64{}}
	history := map[int64]*orderedState{}
	after := int64(-1)
	keepFrom := int64(0)
	for epoch := int64(0); epoch < 40; epoch++ {
		writeRandomChanges(t, d, mem, rng, model, epoch, after, 1+rng.Intn(30), func() string {
			return fmt.Sprintf("%s/%d", []string{"a", "b", "-", "ü"}[rng.Intn(4)], rng.Intn(25))
		}, 4, 1000)
		after = epoch
		history[epoch] = model.clone()
		if rng.Intn(5) == 0 {
			if _, err := d.Compact(0, epoch, mem); err != nil {
				t.Fatal(err)
			}
		}
		if rng.Intn(3) == 0 {
			keepFrom = max(keepFrom, epoch-int64(rng.Intn(8)))
			if err := d.RemoveBefore(keepFrom); err != nil {
				t.Fatal(err)
			}
		}
		for e := keepFrom; e <= epoch; e++ {
			_, recs, err := d.ReadState(0, e, mem)
			if err != nil {
				t.Fatalf("epoch %d (state at %d): %v", epoch, e, err)
			}
			got := readOrdered(t, recs)
			releaseRecs(recs)
			if got.String() != history[e].String() {
				t.Fatalf("state at epoch %d (after writing %d):\n got %s\nwant %s", e, epoch, got, history[e])
			}
		}
	}
	chain, err := d.StateChain(0, 39)
	if err != nil {
		t.Fatal(err)
	}
	if bases, _ := d.Epochs("state/0"); len(bases) == 0 || bases[0] > keepFrom {
		t.Fatalf("retention kept bases %v for keepFrom %d (chain %+v)", bases, keepFrom, chain)
	}
}

// TestChangelogBrokenChain: a lost changelog in the middle is reported, not skipped.
func TestChangelogBrokenChain(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	d, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for e := int64(0); e < 3; e++ {
		up := testKeyRecord(mem, testStateSchema, []string{fmt.Sprintf("a/%d", e)}, []int64{e})
		if _, err := d.WriteChanges(0, e, e-1, testStateSchema, 2, []arrow.RecordBatch{up}, nil, mem); err != nil {
			t.Fatal(err)
		}
		up.Release()
	}
	if err := os.Remove(filepath.Join(d.Path(), ChangesFile(0, 1))); err != nil {
		t.Fatal(err)
	}
	_, _, err = d.ReadState(0, 2, mem)
	if err == nil || !strings.Contains(err.Error(), "follows epoch 1's state but the state before it is epoch 0's") {
		t.Fatalf("got %v", err)
	}
	_, _, err = d.ReadState(0, 1, mem)
	if err == nil || !strings.Contains(err.Error(), "is missing") {
		t.Fatalf("got %v", err)
	}
	// A flipped byte in a changelog is caught by its checksum.
	p := filepath.Join(d.Path(), ChangesFile(0, 2))
	b, _ := os.ReadFile(p)
	b[len(b)/2] ^= 0x40
	os.WriteFile(p, b, 0o600)
	if _, _, err = d.ReadState(0, 2, mem); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("got %v", err)
	}
}

// TestCompactStreamsManyChunks compacts a chain whose merged state spans several merged records
// (more than mergeChunkRows rows, so the merge hands records to the file one by one) and checks
// the new base, read back, against the expected state in order, and against the merge of the
// chain it replaced.
func TestCompactStreamsManyChunks(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	d, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	n := 2*mergeChunkRows + mergeChunkRows/2 // 2.27 chunks after the deletes
	write := func(epoch, after int64, upKeys []string, upVals []int64, delKeys []string) {
		writeChangelog(t, d, mem, epoch, after, upKeys, upVals, delKeys)
	}
	var keys []string
	var vals []int64
	for i := 0; i < n; i++ {
		keys, vals = append(keys, fmt.Sprintf("a/%d", i)), append(vals, int64(i))
	}
	write(0, -1, keys, vals, nil)
	// Epoch 1: every 7th key updated, every 11th deleted (77th: deleted wins), 100 new keys.
	var upKeys, delKeys []string
	var upVals []int64
	want := &orderedState{vals: map[string]int64{}}
	for i := 0; i < n; i++ {
		k := fmt.Sprintf("a/%d", i)
		switch {
		case i%11 == 0:
			delKeys = append(delKeys, k)
		case i%7 == 0:
			upKeys, upVals = append(upKeys, k), append(upVals, int64(-i))
			want.keys, want.vals[k] = append(want.keys, k), int64(-i)
		default:
			want.keys, want.vals[k] = append(want.keys, k), int64(i)
		}
	}
	for i := n; i < n+100; i++ {
		k := fmt.Sprintf("b/%d", i)
		upKeys, upVals = append(upKeys, k), append(upVals, int64(i))
		want.keys, want.vals[k] = append(want.keys, k), int64(i)
	}
	write(1, 0, upKeys, upVals, delKeys)

	_, merged, err := d.ReadState(0, 1, mem)
	if err != nil {
		t.Fatal(err)
	}
	fromChain := readOrdered(t, merged)
	releaseRecs(merged)
	if _, err := d.Compact(0, 1, mem); err != nil {
		t.Fatal(err)
	}
	_, base, err := d.ReadRecords(StateFile(0, 1), mem)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseRecs(base)
	if len(base) < 3 {
		t.Fatalf("the compacted base has %d records; want the merge cut into at least 3", len(base))
	}
	got := readOrdered(t, base)
	if got.String() != want.String() {
		t.Fatalf("compacted base differs from the expected state (%d keys, want %d)", len(got.keys), len(want.keys))
	}
	if got.String() != fromChain.String() {
		t.Fatalf("compacted base differs from the chain's merge")
	}
	if _, err := d.Compact(0, 1, mem); err != nil { // already a base: nothing to do
		t.Fatal(err)
	}
}
