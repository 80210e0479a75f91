package state

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// chainOnDisk writes a base of nbase keys and nlogs changelogs of random updates, deletes,
// re-creations and new keys (NULL key parts included) and returns the model's final state.
func chainOnDisk(t *testing.T, d *Dir, mem memory.Allocator, seed int64, nbase, nlogs, perLog int) *orderedState {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	model := &fastModel{vals: map[string]int64{}, pos: map[string]int{}}
	var keys []string
	var vals []int64
	for i := 0; i < nbase; i++ {
		k := fmt.Sprintf("%s/%d", []string{"a", "-", "bb"}[i%3], i)
		keys, vals = append(keys, k), append(vals, int64(i))
		model.upsert(k, int64(i))
	}
	base := testKeyRecord(mem, testStateSchema, keys, vals)
	if err := d.WriteRecords(StateFile(0, 0), testStateSchema, []arrow.RecordBatch{base}); err != nil {
		t.Fatal(err)
	}
	base.Release()
	for e := int64(1); e <= int64(nlogs); e++ {
		writeRandomChanges(t, d, mem, rng, model, e, e-1, perLog, func() string {
			return fmt.Sprintf("%s/%d", []string{"a", "-", "bb"}[rng.Intn(3)], rng.Intn(nbase+nbase/2+10))
		}, 5, 1e6)
	}
	return model.ordered()
}

// fastModel is orderedState with O(1) deletes (a removed key's place is marked), for many keys.
type fastModel struct {
	keys []string
	live []bool
	pos  map[string]int
	vals map[string]int64
}

func (m *fastModel) upsert(k string, v int64) {
	if _, ok := m.vals[k]; !ok {
		m.pos[k] = len(m.keys)
		m.keys, m.live = append(m.keys, k), append(m.live, true)
	}
	m.vals[k] = v
}

func (m *fastModel) remove(k string) {
	if _, ok := m.vals[k]; ok {
		m.live[m.pos[k]] = false
		delete(m.vals, k)
		delete(m.pos, k)
	}
}

func (m *fastModel) ordered() *orderedState {
	s := &orderedState{vals: m.vals}
	for i, k := range m.keys {
		if m.live[i] {
			s.keys = append(s.keys, k)
		}
	}
	return s
}

// mergeWithHash merges the chain of d's operator 0 at epoch with the key index's hash replaced.
func mergeWithHash(t *testing.T, d *Dir, mem memory.Allocator, epoch int64, hash func([]byte) uint64) *orderedState {
	t.Helper()
	c, err := d.StateChain(0, epoch)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := d.loadChain(0, c, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer ch.release()
	var recs []arrow.RecordBatch
	err = mergeByKeyTo(mem, ch.schema, ch.keyCols, ch.base, ch.logs, hash, func(r arrow.RecordBatch) error {
		r.Retain()
		recs = append(recs, r)
		return nil
	})
	defer releaseRecs(recs)
	if err != nil {
		t.Fatal(err)
	}
	return readOrdered(t, recs)
}

// TestKeyIndexCollisions: with hash functions that make distinct keys collide (all in one
// bucket; 16 buckets), the merge still tells keys apart by their bytes and equals the model,
// order included, as the default hash does.
func TestKeyIndexCollisions(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	d, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := chainOnDisk(t, d, mem, 3, 300, 6, 120)
	for name, h := range map[string]func([]byte) uint64{
		"default":    nil,
		"one value":  func([]byte) uint64 { return 42 },
		"16 buckets": func(b []byte) uint64 { return uint64(len(b)+int(b[len(b)-1])) % 16 },
	} {
		if got := mergeWithHash(t, d, mem, 6, h); got.String() != want.String() {
			t.Fatalf("%s hash: merged state differs from the model\n got %s\nwant %s", name, got, want)
		}
	}
}

// TestKeyIndexManyKeys: a chain whose changelogs touch 200,000 distinct keys (more than a table
// of 2^17 slots, with deletes and re-creations) merges to the model's state, through ReadState
// and through a compaction read back.
func TestKeyIndexManyKeys(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	d, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := chainOnDisk(t, d, mem, 11, 100_000, 3, 90_000)
	_, recs, err := d.ReadState(0, 3, mem)
	if err != nil {
		t.Fatal(err)
	}
	got := readOrdered(t, recs)
	releaseRecs(recs)
	if got.String() != want.String() {
		t.Fatalf("merged state of %d keys differs from the model's %d", len(got.keys), len(want.keys))
	}
	if _, err := d.Compact(0, 3, mem); err != nil {
		t.Fatal(err)
	}
	_, recs, err = d.ReadRecords(StateFile(0, 3), mem)
	if err != nil {
		t.Fatal(err)
	}
	got = readOrdered(t, recs)
	releaseRecs(recs)
	if got.String() != want.String() {
		t.Fatalf("compacted state of %d keys differs from the model's %d", len(got.keys), len(want.keys))
	}
}

// TestCompactPolicyMaxBytes: with MaxBytes, a long chain is compacted in steps that each merge
// at most MaxBytes of changelogs (at least one), and after every step the state at the chain's
// end still equals the model.
func TestCompactPolicyMaxBytes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	d, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := chainOnDisk(t, d, mem, 5, 2000, 9, 400)
	size := func(e int64) int64 { s, _ := d.fileSize(ChangesFile(0, e)); return s }
	p := CompactPolicy{Bytes: 1, MaxBytes: size(1) + size(2) + size(3)/2}
	steps := 0
	for {
		c, err := d.StateChain(0, 9)
		if err != nil {
			t.Fatal(err)
		}
		target, due, err := d.CompactPlan(0, 9, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Changes) == 0 {
			if due {
				t.Fatalf("a chain without changelogs is due")
			}
			break
		}
		if !due {
			t.Fatalf("chain %+v with Bytes 1 is not due", c)
		}
		var merged int64
		for _, e := range c.Changes {
			if e <= target {
				merged += size(e)
			}
		}
		if target != c.Changes[0] && merged > p.MaxBytes {
			t.Fatalf("compaction at %d merges %d bytes, over MaxBytes %d", target, merged, p.MaxBytes)
		}
		next := c.Changes[len(c.Changes)-1]
		for i, e := range c.Changes {
			if e == target && i+1 < len(c.Changes) {
				next = c.Changes[i+1]
			}
		}
		if next != 9 && size(next)+merged <= p.MaxBytes {
			t.Fatalf("compaction at %d stops before %d, which fits", target, next)
		}
		if _, err := d.Compact(0, target, mem); err != nil {
			t.Fatal(err)
		}
		_, recs, err := d.ReadState(0, 9, mem)
		if err != nil {
			t.Fatal(err)
		}
		got := readOrdered(t, recs)
		releaseRecs(recs)
		if got.String() != want.String() {
			t.Fatalf("after compacting at %d the state at 9 differs from the model", target)
		}
		steps++
	}
	if steps < 3 {
		t.Fatalf("%d compactions for 9 changelogs at about 2.5 per compaction", steps)
	}
}
