package sinks

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/internal/benchutil"
)

// wrow is one weighted row of kvSchema (k VARCHAR, n BIGINT); k nil is NULL.
type wrow struct {
	k any
	n int64
	w int64
}

func (r wrow) text() string {
	k := "NULL"
	if r.k != nil {
		k = r.k.(string)
	}
	return fmt.Sprintf("%s|%d", k, r.n)
}

// weightedDelta builds one delta of kvSchema; nilWeights leaves the weights out (every w must
// then be 1). The caller releases both arrays (releaseDeltas).
func weightedDelta(mem memory.Allocator, rows []wrow, nilWeights bool) exec.Delta {
	b := array.NewRecordBuilder(mem, kvSchema)
	defer b.Release()
	wb := array.NewInt64Builder(mem)
	defer wb.Release()
	for _, r := range rows {
		if r.k == nil {
			b.Field(0).AppendNull()
		} else {
			b.Field(0).(*array.StringBuilder).Append(r.k.(string))
		}
		b.Field(1).(*array.Int64Builder).Append(r.n)
		wb.Append(r.w)
	}
	d := exec.Delta{Rec: b.NewRecordBatch()}
	if !nilWeights {
		d.Weights = wb.NewInt64Array()
	}
	return d
}

func releaseDeltas(ds []exec.Delta) {
	for _, d := range ds {
		d.Rec.Release()
		if d.Weights != nil {
			d.Weights.Release()
		}
	}
}

// epochDeltas splits an epoch's rows, shuffled, into 1-3 deltas; a delta whose rows all have
// weight 1 sometimes has nil weights.
func epochDeltas(rng *rand.Rand, mem memory.Allocator, rows []wrow) []exec.Delta {
	rows = append([]wrow(nil), rows...)
	rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	var out []exec.Delta
	for len(rows) > 0 {
		n := 1 + rng.IntN(len(rows))
		part := rows[:n]
		rows = rows[n:]
		ones := true
		for _, r := range part {
			ones = ones && r.w == 1
		}
		out = append(out, weightedDelta(mem, part, ones && rng.IntN(2) == 0))
	}
	return out
}

// keyedOracle is an update-mode result table keyed by k: what a correct stream of deltas keeps.
type keyedOracle map[string]int64

// nextKeyedEpoch returns a consistent epoch of deltas for o and applies it to o: inserts, updates
// (retract the old row, insert the new), deletes (retract only), no-op churn (retract and insert
// the same row), rows inserted and retracted in the same epoch, and double updates.
func nextKeyedEpoch(rng *rand.Rand, o keyedOracle, keys int) []wrow {
	var rows []wrow
	for range 1 + rng.IntN(6) {
		k := fmt.Sprintf("k%d", rng.IntN(keys))
		old, present := o[k]
		nv := int64(rng.IntN(100))
		if present {
			switch rng.IntN(4) {
			case 0: // update
				rows = append(rows, wrow{k, old, -1}, wrow{k, nv, 1})
				o[k] = nv
			case 1: // delete
				rows = append(rows, wrow{k, old, -1})
				delete(o, k)
			case 2: // churn: unchanged
				rows = append(rows, wrow{k, old, -1}, wrow{k, old, 1})
			case 3: // two updates in one epoch
				mid := nv + 1000
				rows = append(rows, wrow{k, old, -1}, wrow{k, mid, 1}, wrow{k, mid, -1}, wrow{k, nv, 1})
				o[k] = nv
			}
		} else {
			switch rng.IntN(3) {
			case 0, 1: // insert
				rows = append(rows, wrow{k, nv, 1})
				o[k] = nv
			case 2: // transient: inserted and retracted in the epoch
				rows = append(rows, wrow{k, nv, 1}, wrow{k, nv, -1})
			}
		}
	}
	return rows
}

func (o keyedOracle) rows() []string {
	var out []string
	for k, n := range o {
		out = append(out, fmt.Sprintf("%s|%d", k, n))
	}
	sort.Strings(out)
	return out
}

// multisetOracle is a keyless update-mode result table: row text -> copies.
type multisetOracle map[string]int64

// nextMultisetEpoch returns a consistent epoch for o (over a small domain with NULLs, so equal
// rows and NULL keys are common) and applies it: inserted copies, retracted existing copies
// (sometimes several in one weight), rows inserted and retracted in the same epoch.
func nextMultisetEpoch(rng *rand.Rand, o multisetOracle) []wrow {
	var rows []wrow
	for range 1 + rng.IntN(8) {
		var k any
		if x := rng.IntN(3); x > 0 {
			k = fmt.Sprintf("v%d", x)
		}
		r := wrow{k: k, n: int64(rng.IntN(3))}
		have := o[r.text()]
		switch {
		case have > 0 && rng.IntN(2) == 0: // retract some of the copies
			r.w = -1 - rng.Int64N(have)
			rows = append(rows, r)
		case rng.IntN(4) == 0: // transient: inserted and retracted
			rows = append(rows, wrow{r.k, r.n, 1}, wrow{r.k, r.n, -1})
			r.w = 0
		default: // one or two more copies
			r.w = 1 + rng.Int64N(2)
			rows = append(rows, r)
		}
		if o[r.text()] += r.w; o[r.text()] == 0 {
			delete(o, r.text())
		}
	}
	return rows
}

func (o multisetOracle) rows() []string {
	var out []string
	for k, n := range o {
		for range n {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func recordRows(rec arrow.RecordBatch) []string {
	var out []string
	for i := 0; i < int(rec.NumRows()); i++ {
		out = append(out, exec.FormatValue(rec.Column(0), i)+"|"+exec.FormatValue(rec.Column(1), i))
	}
	return out
}

// TestConsolidateByKeyOracle applies the consolidated changes of random consistent epochs (rows
// shuffled and split across deltas) to a map and compares with the oracle after every epoch.
func TestConsolidateByKeyOracle(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for seed := range uint64(30) {
		rng := rand.New(rand.NewPCG(seed, 7))
		oracle := keyedOracle{}
		applied := map[string]string{}
		for epoch := range 40 {
			ds := epochDeltas(rng, mem, nextKeyedEpoch(rng, oracle, 8))
			c, err := ConsolidateByKey(mem, kvSchema, ds, []int{0})
			releaseDeltas(ds)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, r := range append(recordRows(c.Deletes), recordRows(c.Upserts)...) {
				k := strings.Split(r, "|")[0]
				if seen[k] {
					t.Fatalf("seed %d epoch %d: key %s changed twice in one epoch", seed, epoch, k)
				}
				seen[k] = true
			}
			for _, r := range recordRows(c.Deletes) {
				delete(applied, strings.Split(r, "|")[0])
			}
			for _, r := range recordRows(c.Upserts) {
				applied[strings.Split(r, "|")[0]] = r
			}
			c.Release()
			var got []string
			for _, r := range applied {
				got = append(got, r)
			}
			sort.Strings(got)
			if want := oracle.rows(); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("seed %d epoch %d:\n got %v\nwant %v", seed, epoch, got, want)
			}
		}
	}
}

// TestConsolidateMultisetOracle is the keyless version: a retraction deletes one copy.
func TestConsolidateMultisetOracle(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for seed := range uint64(30) {
		rng := rand.New(rand.NewPCG(seed, 8))
		oracle := multisetOracle{}
		applied := map[string]int64{}
		for epoch := range 40 {
			ds := epochDeltas(rng, mem, nextMultisetEpoch(rng, oracle))
			c, err := ConsolidateByKey(mem, kvSchema, ds, nil)
			releaseDeltas(ds)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recordRows(c.Deletes) {
				if applied[r] == 0 {
					t.Fatalf("seed %d epoch %d: delete of %s, which is not there", seed, epoch, r)
				}
				applied[r]--
			}
			for _, r := range recordRows(c.Upserts) {
				applied[r]++
			}
			c.Release()
			got := multisetOracle{}
			for k, v := range applied {
				if v > 0 {
					got[k] = v
				}
			}
			if g, w := got.rows(), oracle.rows(); strings.Join(g, " ") != strings.Join(w, " ") {
				t.Fatalf("seed %d epoch %d:\n got %v\nwant %v", seed, epoch, g, w)
			}
		}
	}
}

// TestConsolidateCases pins the decisions of single keys, and the order of the output.
func TestConsolidateCases(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, tc := range []struct {
		name     string
		rows     []wrow
		keys     []int
		ups, del string
	}{
		{"update, retraction after insertion", []wrow{{"a", 2, 1}, {"a", 1, -1}}, []int{0}, "a|2", ""},
		{"delete", []wrow{{"a", 1, -1}}, []int{0}, "", "a|1"},
		{"transient", []wrow{{"a", 1, 1}, {"a", 1, -1}}, []int{0}, "", ""},
		{"churn", []wrow{{"a", 1, -1}, {"a", 1, 1}}, []int{0}, "", ""},
		{"last insert wins", []wrow{{"b", 1, 1}, {"a", 1, 1}, {"b", 2, 1}}, []int{0}, "a|1 b|2", ""},
		{"NULL key", []wrow{{nil, 1, -1}, {nil, 2, 1}}, []int{0}, "NULL|2", ""},
		{"keyless copies", []wrow{{"a", 1, 3}, {"a", 1, -1}, {"b", 1, -2}, {nil, 0, 1}}, nil, "a|1 a|1 NULL|0", "b|1 b|1"},
		{"zero weight ignored", []wrow{{"a", 1, 0}}, []int{0}, "", ""},
	} {
		d := weightedDelta(mem, tc.rows, false)
		c, err := ConsolidateByKey(mem, kvSchema, []exec.Delta{d}, tc.keys)
		releaseDeltas([]exec.Delta{d})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := strings.Join(recordRows(c.Upserts), " "); got != tc.ups {
			t.Errorf("%s: upserts %q, want %q", tc.name, got, tc.ups)
		}
		if got := strings.Join(recordRows(c.Deletes), " "); got != tc.del {
			t.Errorf("%s: deletes %q, want %q", tc.name, got, tc.del)
		}
		c.Release()
	}
}

// TestConsolidateInsertOnlyLastPerKey: with nil weights the last row of each key wins, in input
// order, across records (the fast path).
func TestConsolidateInsertOnlyLastPerKey(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	w := ts("2024-01-01 00:00:00")
	r1 := makeRecord(t, mem, winSchema, []any{"a", w, 1}, []any{"b", w, 2}, []any{"a", w, 3})
	r2 := makeRecord(t, mem, winSchema, []any{"b", w, 4}, []any{"c", w, 5}, []any{"a", w + 1, 6})
	defer r1.Release()
	defer r2.Release()
	ns := func(c Changes) string {
		var out []string
		for i := 0; i < int(c.Upserts.NumRows()); i++ {
			out = append(out, exec.FormatValue(c.Upserts.Column(2), i))
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct {
		recs []arrow.RecordBatch
		keys []int
		want string
	}{
		{[]arrow.RecordBatch{r1}, []int{1}, "3"},
		{[]arrow.RecordBatch{r1, r2}, []int{0, 1}, "3,4,5,6"},
		{[]arrow.RecordBatch{r2}, []int{0, 1}, "4,5,6"},
		{[]arrow.RecordBatch{r1, r2}, nil, "1,2,3,4,5,6"},
	} {
		c, err := ConsolidateByKey(mem, winSchema, inserts(tc.recs...), tc.keys)
		if err != nil {
			t.Fatal(err)
		}
		if got := ns(c); got != tc.want {
			t.Errorf("keys %v: n = %s, want %s", tc.keys, got, tc.want)
		}
		if c.Deletes.NumRows() != 0 {
			t.Errorf("keys %v: deletes from inserts only", tc.keys)
		}
		c.Release()
	}
}

func TestInsertedRows(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	d := weightedDelta(mem, []wrow{{"a", 1, 2}, {"b", 2, 0}, {"c", 3, 1}}, false)
	defer releaseDeltas([]exec.Delta{d})
	recs, err := InsertedRows(mem, kvSchema, Append, []exec.Delta{d})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, recordRows(r)...)
	}
	releaseRecords(recs)
	if strings.Join(got, " ") != "a|1 a|1 c|3" {
		t.Fatalf("got %v", got)
	}
	neg := weightedDelta(mem, []wrow{{"a", 1, 1}, {"b", 2, -1}}, false)
	defer releaseDeltas([]exec.Delta{neg})
	for _, mode := range []OutputMode{Append, Complete} {
		_, err := InsertedRows(mem, kvSchema, mode, []exec.Delta{neg})
		if !errors.Is(err, ErrRetractionOutsideUpdate) || !strings.Contains(err.Error(), mode.String()+" mode") || !strings.Contains(err.Error(), "k=b") {
			t.Fatalf("%s: err = %v", mode, err)
		}
	}
}

// TestConsolidateBadDeltas: malformed deltas are errors, not panics.
func TestConsolidateBadDeltas(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	d := weightedDelta(mem, []wrow{{"a", 1, 1}, {"b", 2, 1}}, true)
	defer releaseDeltas([]exec.Delta{d})
	wb := array.NewInt64Builder(mem)
	wb.Append(1)
	short := wb.NewInt64Array()
	wb.AppendNull()
	wb.Append(1)
	nulls := wb.NewInt64Array()
	wb.Release()
	defer short.Release()
	defer nulls.Release()
	other := arrow.NewSchema([]arrow.Field{{Name: "k", Type: exec.String}}, nil)
	for name, tc := range map[string]struct {
		schema *arrow.Schema
		d      exec.Delta
		keys   []int
		want   string
	}{
		"short weights": {kvSchema, exec.Delta{Rec: d.Rec, Weights: short}, []int{0}, "2 rows but 1 weights"},
		"NULL weight":   {kvSchema, exec.Delta{Rec: d.Rec, Weights: nulls}, nil, "NULL weight"},
		"columns":       {other, d, nil, "2 columns, the output schema 1"},
		"key index":     {kvSchema, d, []int{5}, "out of range"},
		"no record":     {kvSchema, exec.Delta{}, nil, "without a record"},
	} {
		c, err := ConsolidateByKey(mem, tc.schema, []exec.Delta{tc.d}, tc.keys)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			if err == nil {
				c.Release()
			}
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
}

// BenchmarkConsolidateByKey nets one epoch of 100,000 rows over 10,000 keys: insert-only with
// nil weights (today's aggregate output; the fast path), updates as retraction + insertion pairs
// (every key retracts its old row and inserts a new one), and keyless rows with mixed weights.
func BenchmarkConsolidateByKey(b *testing.B) {
	const rows, keys = 100_000, 10_000
	build := func(weighted bool, f func(i int) wrow) exec.Delta {
		rs := make([]wrow, rows)
		for i := range rs {
			rs[i] = f(i)
		}
		return weightedDelta(memory.DefaultAllocator, rs, !weighted)
	}
	cases := []struct {
		name string
		d    exec.Delta
		keys []int
	}{
		{"insert_only_keyed", build(false, func(i int) wrow { return wrow{fmt.Sprint("k", i%keys), int64(i), 1} }), []int{0}},
		{"retract_insert_keyed", build(true, func(i int) wrow {
			if i%2 == 0 {
				return wrow{fmt.Sprint("k", (i/2)%keys), int64(i), -1}
			}
			return wrow{fmt.Sprint("k", (i/2)%keys), int64(i + 1), 1}
		}), []int{0}},
		{"mixed_keyless", build(true, func(i int) wrow { return wrow{fmt.Sprint("k", i%keys), int64(i % 7), int64(i%3) - 1} }), nil},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			cpu0 := benchutil.ProcessCPUTime()
			for b.Loop() {
				ch, err := ConsolidateByKey(memory.DefaultAllocator, kvSchema, []exec.Delta{c.d}, c.keys)
				if err != nil {
					b.Fatal(err)
				}
				ch.Release()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
			b.ReportMetric(float64((benchutil.ProcessCPUTime()-cpu0).Nanoseconds())/float64(b.N)/rows, "cpu-ns/row")
		})
		releaseDeltas([]exec.Delta{c.d})
	}
}
