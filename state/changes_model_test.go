package state

import (
	"math/rand"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// changeModel is what the changelog tests keep as the truth: keys in creation order with their
// values (orderedState, or fastModel for many keys).
type changeModel interface {
	upsert(k string, v int64)
	remove(k string)
	has(k string) bool
	value(k string) int64
	liveKeys() []string // in creation order
}

func (s *orderedState) has(k string) bool    { _, ok := s.vals[k]; return ok }
func (s *orderedState) value(k string) int64 { return s.vals[k] }
func (s *orderedState) liveKeys() []string   { return s.keys }
func (m *fastModel) has(k string) bool       { _, ok := m.vals[k]; return ok }
func (m *fastModel) value(k string) int64    { return m.vals[k] }
func (m *fastModel) liveKeys() []string      { return m.ordered().keys }

// writeRandomChanges applies n random changes to m (key from nextKey; one in removeOneIn a
// delete, else an upsert of a value below valMax) and writes them as operator 0's changelog for
// epoch (following after) as an operator reports them: the changed live keys in creation order
// with their values, and the removed keys in the order they were first touched.
func writeRandomChanges(t *testing.T, d *Dir, mem memory.Allocator, rng *rand.Rand, m changeModel, epoch, after int64, n int, nextKey func() string, removeOneIn int, valMax int64) {
	t.Helper()
	changed, removed := map[string]bool{}, map[string]bool{}
	var order []string
	for i := 0; i < n; i++ {
		k := nextKey()
		if rng.Intn(removeOneIn) == 0 {
			if m.has(k) {
				removed[k] = true
			}
			m.remove(k)
		} else {
			m.upsert(k, rng.Int63n(valMax))
		}
		if !changed[k] {
			changed[k] = true
			order = append(order, k)
		}
	}
	var upKeys, delKeys []string
	var upVals []int64
	for _, k := range m.liveKeys() {
		if changed[k] {
			upKeys, upVals = append(upKeys, k), append(upVals, m.value(k))
		}
	}
	for _, k := range order {
		if removed[k] {
			delKeys = append(delKeys, k)
		}
	}
	writeChangelog(t, d, mem, epoch, after, upKeys, upVals, delKeys)
}

// writeChangelog writes operator 0's changelog for epoch (following after) of testStateSchema
// rows: upserts of upKeys with upVals, deletes of delKeys.
func writeChangelog(t *testing.T, d *Dir, mem memory.Allocator, epoch, after int64, upKeys []string, upVals []int64, delKeys []string) {
	t.Helper()
	keySchema := arrow.NewSchema(testStateSchema.Fields()[:2], nil)
	up := testKeyRecord(mem, testStateSchema, upKeys, upVals)
	del := testKeyRecord(mem, keySchema, delKeys, nil)
	defer up.Release()
	defer del.Release()
	if _, err := d.WriteChanges(0, epoch, after, testStateSchema, 2, []arrow.RecordBatch{up}, []arrow.RecordBatch{del}, mem); err != nil {
		t.Fatal(err)
	}
}
