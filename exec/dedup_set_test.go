package exec

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The key set under churn against a Go map: batches of random keys (a small key space, so many
// repeat) are inserted, and random held keys removed, over tables that grow, fill clusters and
// shrink again; every insert must report exactly the map's answer and the same id for a held key.
func TestDedupSetMatchesMap(t *testing.T) {
	mem := memory.NewGoAllocator()
	for _, typ := range []arrow.DataType{Int64, String} {
		keys := newDedupKeys([]arrow.DataType{typ, Int64})
		set := newDedupSet(keys.stride)
		oracle := map[[2]int64]int32{}
		r := rand.New(rand.NewPCG(3, uint64(typ.ID())))
		for round := 0; round < 60; round++ {
			n := 1 + r.IntN(3000)
			space := int64(50 + r.IntN(5000))
			a := make([][2]int64, n)
			kb, vb := array.NewBuilder(mem, typ), array.NewInt64Builder(mem)
			for i := range a {
				a[i] = [2]int64{r.Int64N(space), r.Int64N(3)}
				if typ == String {
					kb.(*array.StringBuilder).Append(string(rune('a'+a[i][0]%26)) + string(rune('a'+a[i][0]/26)))
				} else {
					kb.(*array.Int64Builder).Append(a[i][0])
				}
				vb.Append(a[i][1])
			}
			cols := []arrow.Array{kb.NewArray(), vb.NewArray()}
			keys.encode(cols, n)
			for i := range a {
				id, added := set.insert(keys, i)
				old, held := oracle[a[i]]
				if added == held || (held && id != old) {
					t.Fatalf("%s round %d row %d: insert gave id %d added %v; map has %d, %v", typ, round, i, id, added, old, held)
				}
				oracle[a[i]] = id
			}
			releaseArrays(cols)
			// Remove a random share of the held keys (all of them in some rounds).
			share := r.Float64()
			if round%7 == 6 {
				share = 1
			}
			var held [][2]int64
			for k := range oracle {
				held = append(held, k)
			}
			sort.Slice(held, func(i, j int) bool {
				return held[i][0] < held[j][0] || held[i][0] == held[j][0] && held[i][1] < held[j][1]
			})
			var gone []int32
			for _, k := range held {
				if r.Float64() < share {
					gone = append(gone, oracle[k])
					delete(oracle, k)
				}
			}
			// One by one (few keys) or by rebuilding the table (many); a few rounds both ways.
			if round%3 == 0 {
				for _, id := range gone {
					set.remove(id)
				}
			} else {
				set.removeAll(gone)
			}
			set.tidy()
			if set.len() != len(oracle) {
				t.Fatalf("%s round %d: set holds %d keys, map %d", typ, round, set.len(), len(oracle))
			}
		}
	}
}

// DOUBLE keys: -0.0 equals 0.0 and every NaN equals every NaN; NULL equals NULL but not 0.
func TestDedupKeysFloatEquality(t *testing.T) {
	mem := memory.NewGoAllocator()
	b := array.NewFloat64Builder(mem)
	b.AppendValues([]float64{0, math.Copysign(0, -1), math.NaN(), -math.NaN(), 1}, nil)
	b.AppendNull()
	b.AppendNull()
	col := b.NewArray()
	defer col.Release()
	keys := newDedupKeys([]arrow.DataType{Float64})
	set := newDedupSet(keys.stride)
	keys.encode([]arrow.Array{col}, col.Len())
	var added []bool
	for r := 0; r < col.Len(); r++ {
		_, ok := set.insert(keys, r)
		added = append(added, ok)
	}
	want := []bool{true, false, true, false, true, true, false}
	for i := range want {
		if added[i] != want[i] {
			t.Fatalf("row %d added %v, want %v (all: %v)", i, added[i], want[i], added)
		}
	}
}

// Expiry buckets against a scan: ids with random expiries (some far apart, some within one
// bucket, some never) leave exactly when the watermark passes them.
func TestDedupExpiryMatchesScan(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	e := newDedupExpiry()
	var exps []int64
	held := map[int32]bool{}
	wm := int64(-5 << dedupBucketShift)
	const step = 1 << (dedupBucketShift - 3)
	for round := 0; round < 200; round++ {
		for i := r.IntN(200); i > 0; i-- {
			id := int32(len(exps))
			exp := wm + r.Int64N(64)*step - (1 << dedupBucketShift) // on a grid, so expiries equal to a later watermark occur
			if r.IntN(20) == 0 {
				exp = noExpiry
			}
			if exp < wm { // an operator never adds a key already expired
				exp = wm
			}
			exps = append(exps, exp)
			e.add(id, exp)
			held[id] = true
		}
		wm += r.Int64N(9) * step
		got := map[int32]bool{}
		for _, id := range e.expire(wm, exps, nil) {
			if !held[id] || got[id] {
				t.Fatalf("round %d: id %d expired twice or was not held", round, id)
			}
			got[id] = true
		}
		for id := range held {
			if want := exps[id] < wm; want != got[id] {
				t.Fatalf("round %d: id %d (expiry %d, watermark %d) expired %v", round, id, exps[id], wm, got[id])
			}
			if got[id] {
				delete(held, id)
			}
		}
		if e.len() != len(held) {
			t.Fatalf("round %d: %d ids held, want %d", round, e.len(), len(held))
		}
	}
}
