package exec

import (
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The group table for one key of a type whose values fit an int64: BIGINT, TIMESTAMP, INTERVAL,
// DATE, BOOLEAN and DOUBLE (by its bits, after mapping -0.0 to 0.0 and every NaN to one NaN, so
// they group as SQL says). Open addressing with linear probing and Fibonacci hashing; the slot
// holds the key itself so a probe touches one cache line.

const aggHashMul = 0x9E3779B97F4A7C15

// aggCanonicalNaN is the bit pattern every NaN key is stored as.
var aggCanonicalNaN = int64(math.Float64bits(math.NaN()))

type int64Slot struct {
	key  int64
	gid1 uint32 // group id + 1; 0 marks an empty slot
}

type int64Table struct {
	typ     arrow.DataType
	slots   []int64Slot // power-of-two length, see aggTableFull
	shift   uint        // 64 - log2(len(slots))
	keys    []int64     // key of each group id (0 for the NULL group)
	nullGid int64       // group id of the NULL key, -1 until a NULL is seen
	scratch []int64     // the batch's keys widened to int64, for non-BIGINT key types
}

func int64KeyType(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT64, arrow.TIMESTAMP, arrow.DURATION, arrow.DATE32, arrow.BOOL, arrow.FLOAT64:
		return true
	}
	return false
}

func newInt64Table(t arrow.DataType) *int64Table {
	const initial = 1024
	return &int64Table{typ: t, slots: make([]int64Slot, initial), shift: 64 - 10, nullGid: -1}
}

func (t *int64Table) numGroups() int { return len(t.keys) }

func (t *int64Table) bytes() int64 {
	return int64(cap(t.slots))*16 + int64(cap(t.keys))*8 + int64(cap(t.scratch))*8
}

func (t *int64Table) assign(keys []arrow.Array, n int, ids []uint32) {
	col := keys[0]
	vals := t.widen(col, n)
	vb, off := aggValidity(col)
	if vb == nil {
		t.assignValues(vals[:n], ids[:n])
		return
	}
	for i := 0; i < n; i++ {
		if !bitutil.BitIsSet(vb, off+i) {
			if t.nullGid < 0 {
				t.nullGid = int64(len(t.keys))
				t.keys = append(t.keys, 0)
			}
			ids[i] = uint32(t.nullGid)
			continue
		}
		t.assignValues(vals[i:i+1], ids[i:i+1])
	}
}

// widen returns the n keys of col as int64 values (NULL rows hold arbitrary values). For BIGINT,
// TIMESTAMP and INTERVAL this is the Arrow buffer itself.
func (t *int64Table) widen(col arrow.Array, n int) []int64 {
	switch col.DataType().ID() {
	case arrow.INT64, arrow.TIMESTAMP, arrow.DURATION:
		return fixedValues[int64](col)
	}
	if cap(t.scratch) < n {
		t.scratch = make([]int64, n)
	}
	out := t.scratch[:n]
	switch col.DataType().ID() {
	case arrow.DATE32:
		for i, v := range fixedValues[int32](col) {
			out[i] = int64(v)
		}
	case arrow.FLOAT64:
		for i, v := range fixedValues[float64](col) {
			out[i] = aggFloatKey(v)
		}
	case arrow.BOOL:
		bits, off := col.Data().Buffers()[1].Bytes(), col.Data().Offset()
		for i := range out {
			out[i] = int64(bits[(off+i)>>3]>>((off+i)&7)) & 1
		}
	}
	return out
}

// aggFloatKey maps a DOUBLE to the int64 that stands for it as a group key.
func aggFloatKey(f float64) int64 {
	if f == 0 {
		return 0
	}
	if f != f {
		return aggCanonicalNaN
	}
	return int64(math.Float64bits(f))
}

// assignValues is the hot loop: one probe sequence per row, the slot array held in locals.
func (t *int64Table) assignValues(vals []int64, ids []uint32) {
	slots, shift := t.slots, t.shift
	mask := uint64(len(slots) - 1)
	ids = ids[:len(vals)]
	for i, k := range vals {
		h := (uint64(k) * aggHashMul) >> shift
		for {
			s := &slots[h]
			if s.key == k && s.gid1 != 0 {
				ids[i] = s.gid1 - 1
				break
			}
			if s.gid1 == 0 {
				ids[i] = t.insert(k, h)
				slots, shift = t.slots, t.shift
				mask = uint64(len(slots) - 1)
				break
			}
			h = (h + 1) & mask
		}
	}
}

// insert creates the group of key k, whose probe ended at the empty slot h.
func (t *int64Table) insert(k int64, h uint64) uint32 {
	gid := uint32(len(t.keys))
	t.keys = append(t.keys, k)
	if aggTableFull(len(t.keys), len(t.slots)) {
		t.rehash(2 * len(t.slots))
		return gid
	}
	t.slots[h] = int64Slot{key: k, gid1: gid + 1}
	return gid
}

// rehash rebuilds the slot array with size slots from the group keys.
func (t *int64Table) rehash(size int) {
	t.slots = make([]int64Slot, size)
	t.shift = uint(64 - bitsLen(size))
	mask := uint64(size - 1)
	for g, k := range t.keys {
		if int64(g) == t.nullGid {
			continue
		}
		h := (uint64(k) * aggHashMul) >> t.shift
		for t.slots[h].gid1 != 0 {
			h = (h + 1) & mask
		}
		t.slots[h] = int64Slot{key: k, gid1: uint32(g) + 1}
	}
}

// aggTableFull reports whether a hash table of slots slots holding entries entries must grow. Small
// tables (up to 64K slots, which stay in the L2 cache) are kept at most 1/8 full: fewer collisions
// mean fewer mispredicted probe loops, which dominate the cost of a cache-resident lookup. Larger
// tables are dominated by cache misses and kept at most 1/2 full to bound their memory.
func aggTableFull(entries, slots int) bool {
	if slots < 1<<16 {
		return 8*entries > slots
	}
	return 2*entries > slots
}

// bitsLen is log2 of a power of two.
func bitsLen(size int) int {
	n := 0
	for size > 1 {
		size >>= 1
		n++
	}
	return n
}

func (t *int64Table) keyColumns(mem memory.Allocator, gids []uint32) []arrow.Array {
	n := len(gids)
	valid := func(k int) bool { return int64(gids[k]) != t.nullGid }
	var a arrow.Array
	switch t.typ.ID() {
	case arrow.DATE32:
		a = aggFixedArray(mem, t.typ, n, valid, func(k int) int32 { return int32(t.keys[gids[k]]) })
	case arrow.FLOAT64:
		a = aggFixedArray(mem, t.typ, n, valid, func(k int) float64 { return math.Float64frombits(uint64(t.keys[gids[k]])) })
	case arrow.BOOL:
		a = aggBoolArray(mem, n, valid, func(k int) bool { return t.keys[gids[k]] != 0 })
	default:
		a = aggFixedArray(mem, t.typ, n, valid, func(k int) int64 { return t.keys[gids[k]] })
	}
	return []arrow.Array{a}
}

func (t *int64Table) compact(keep []uint32, remap []int32) {
	if t.nullGid >= 0 {
		t.nullGid = int64(remap[t.nullGid])
	}
	t.keys = aggCompact(t.keys, keep)
	t.scratch = nil
	t.rehash(aggSlotsFor(len(t.keys)))
}
