package exec

import (
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The group table for keys of several columns that are all fixed-width (BIGINT, TIMESTAMP,
// INTERVAL, DATE, BOOLEAN, DOUBLE) except at most one VARCHAR: the shape of every
// `GROUP BY key, window(...)` (key, window_start, window_end).
//
// Each row's key becomes a tuple of 64-bit words compared with ==:
//
//	word 0      the VARCHAR's dictionary id (low 32 bits; 0 without a VARCHAR column) and the NULL
//	            flags of the fixed-width columns (bit 32+j for fixed column j)
//	word 1+j    fixed column j widened to 64 bits (int64Table's mapping: DOUBLE by aggFloatKey, so
//	            -0.0 == 0.0 and all NaNs are one key; BOOLEAN 0/1; DATE sign-extended), 0 when NULL
//
// The VARCHAR is dictionary-encoded by a stringTable, whose ids are dense and give the NULL string
// its own id, so equal tuples are exactly equal key tuples with NULLs equal to each other (SQL
// grouping semantics). The slot array holds the whole tuple next to the group id, so a probe reads
// one slot; tuple hashing is a chain of 64x64->128-bit multiply mixes.
//
// The dictionary only grows between evictions; compact drops the strings no surviving group uses
// once they are more than half of it, so its memory follows the live groups too.

// tupleMaxFixed is the most fixed-width key columns the tuple table serves (word 0 is extra).
const tupleMaxFixed = 3

// tupleKey is the tuple of a key: word 0 plus up to tupleMaxFixed fixed-width column words.
type tupleKey interface {
	[1]uint64 | [2]uint64 | [3]uint64 | [4]uint64
}

type tupleSlot[K tupleKey] struct {
	key  K
	gid1 uint32 // group id + 1; 0 marks an empty slot
}

type tupleTable[K tupleKey] struct {
	types  []arrow.DataType
	strCol int   // key column of the VARCHAR, -1 for none
	fixed  []int // key column of word 1+j
	dict   *stringTable
	slots  []tupleSlot[K] // power-of-two length, see aggTableFull
	shift  uint           // 64 - log2(len(slots))
	keys   []K            // tuple of each group id
	tup    []K            // the batch's tuples, reused
	sids   []uint32       // the batch's dictionary ids, reused
}

// tupleKeyTypes reports whether the tuple table serves a key of these column types: at least two
// columns, at most one VARCHAR, the others int64KeyType, at most tupleMaxFixed of those.
func tupleKeyTypes(types []arrow.DataType) bool {
	if len(types) < 2 {
		return false
	}
	strs, fixed := 0, 0
	for _, t := range types {
		switch {
		case t.ID() == arrow.STRING:
			strs++
		case int64KeyType(t):
			fixed++
		default:
			return false
		}
	}
	return strs <= 1 && fixed <= tupleMaxFixed
}

// newTupleTable returns the tuple table for types, which must satisfy tupleKeyTypes.
func newTupleTable(types []arrow.DataType) groupTable {
	nfixed := 0
	for _, t := range types {
		if t.ID() != arrow.STRING {
			nfixed++
		}
	}
	switch nfixed {
	case 0:
		return newTupleTableOf[[1]uint64](types)
	case 1:
		return newTupleTableOf[[2]uint64](types)
	case 2:
		return newTupleTableOf[[3]uint64](types)
	}
	return newTupleTableOf[[4]uint64](types)
}

func newTupleTableOf[K tupleKey](types []arrow.DataType) *tupleTable[K] {
	t := &tupleTable[K]{types: types, strCol: -1, slots: make([]tupleSlot[K], 1024), shift: 64 - 10}
	for c, typ := range types {
		if typ.ID() == arrow.STRING {
			t.strCol = c
			t.dict = newStringTable()
		} else {
			t.fixed = append(t.fixed, c)
		}
	}
	return t
}

func (t *tupleTable[K]) numGroups() int { return len(t.keys) }

func (t *tupleTable[K]) bytes() int64 {
	var k K
	w := int64(len(k)) * 8
	n := int64(cap(t.slots))*(w+8) + int64(cap(t.keys)+cap(t.tup))*w + int64(cap(t.sids))*4
	if t.dict != nil {
		n += t.dict.bytes()
	}
	return n
}

// tupleHash mixes the words of k; the table uses the top bits.
func tupleHash[K tupleKey](k *K) uint64 {
	w := *k
	h := aggMix(w[0]^0xa0761d6478bd642f, uint64(len(w))^0xe7037ed1a0b428db)
	for j := 1; j < len(w); j++ {
		h = aggMix(h^w[j], 0x8ebc6af09c88c6e3)
	}
	return h
}

func (t *tupleTable[K]) assign(keys []arrow.Array, n int, ids []uint32) {
	tup := t.fill(keys, n)
	slots, shift := t.slots, t.shift
	mask := uint64(len(slots) - 1)
	ids = ids[:n]
	for i := range tup {
		k := &tup[i]
		h := tupleHash(k) >> shift
		for {
			s := &slots[h]
			if s.key == *k && s.gid1 != 0 {
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

// fill builds the tuples of rows 0..n-1 of keys in t.tup, column by column.
func (t *tupleTable[K]) fill(keys []arrow.Array, n int) []K {
	if cap(t.tup) < n {
		t.tup = make([]K, n)
	}
	tup := t.tup[:n]
	if t.dict != nil {
		if cap(t.sids) < n {
			t.sids = make([]uint32, n)
		}
		sids := t.sids[:n]
		t.dict.assign(keys[t.strCol:t.strCol+1], n, sids)
		for i, s := range sids {
			tup[i][0] = uint64(s)
		}
	} else {
		for i := range tup {
			tup[i][0] = 0
		}
	}
	for j, c := range t.fixed {
		col := keys[c]
		w := j + 1
		switch col.DataType().ID() {
		case arrow.INT64, arrow.TIMESTAMP, arrow.DURATION:
			for i, v := range fixedValues[int64](col)[:n] {
				tup[i][w] = uint64(v)
			}
		case arrow.DATE32:
			for i, v := range fixedValues[int32](col)[:n] {
				tup[i][w] = uint64(int64(v))
			}
		case arrow.FLOAT64:
			for i, v := range fixedValues[float64](col)[:n] {
				tup[i][w] = uint64(aggFloatKey(v))
			}
		case arrow.BOOL:
			bits, off := col.Data().Buffers()[1].Bytes(), col.Data().Offset()
			for i := range tup {
				tup[i][w] = uint64(bits[(off+i)>>3]>>((off+i)&7)) & 1
			}
		}
		if vb, off := aggValidity(col); vb != nil {
			flag := uint64(1) << (32 + j)
			for i := range tup {
				if !bitutil.BitIsSet(vb, off+i) {
					tup[i][w] = 0
					tup[i][0] |= flag
				}
			}
		}
	}
	return tup
}

// insert creates the group of tuple k, whose probe ended at the empty slot h.
func (t *tupleTable[K]) insert(k *K, h uint64) uint32 {
	gid := uint32(len(t.keys))
	t.keys = append(t.keys, *k)
	if aggTableFull(len(t.keys), len(t.slots)) {
		t.rehash(2 * len(t.slots))
		return gid
	}
	t.slots[h] = tupleSlot[K]{key: *k, gid1: gid + 1}
	return gid
}

// rehash rebuilds the slot array with size slots from the group tuples.
func (t *tupleTable[K]) rehash(size int) {
	t.slots = make([]tupleSlot[K], size)
	t.shift = uint(64 - bitsLen(size))
	mask := uint64(size - 1)
	for g := range t.keys {
		k := &t.keys[g]
		h := tupleHash(k) >> t.shift
		for t.slots[h].gid1 != 0 {
			h = (h + 1) & mask
		}
		t.slots[h] = tupleSlot[K]{key: *k, gid1: uint32(g) + 1}
	}
}

func (t *tupleTable[K]) keyColumns(mem memory.Allocator, gids []uint32) []arrow.Array {
	out := make([]arrow.Array, len(t.types))
	n := len(gids)
	if t.dict != nil {
		sids := make([]uint32, n)
		for k, g := range gids {
			sids[k] = uint32(t.keys[g][0])
		}
		out[t.strCol] = t.dict.keyColumns(mem, sids)[0]
	}
	for j, c := range t.fixed {
		w, flag := j+1, uint64(1)<<(32+j)
		valid := func(k int) bool { return t.keys[gids[k]][0]&flag == 0 }
		word := func(k int) uint64 { return t.keys[gids[k]][w] }
		switch typ := t.types[c]; typ.ID() {
		case arrow.DATE32:
			out[c] = aggFixedArray(mem, typ, n, valid, func(k int) int32 { return int32(word(k)) })
		case arrow.FLOAT64:
			out[c] = aggFixedArray(mem, typ, n, valid, func(k int) float64 { return math.Float64frombits(word(k)) })
		case arrow.BOOL:
			out[c] = aggBoolArray(mem, n, valid, func(k int) bool { return word(k) != 0 })
		default:
			out[c] = aggFixedArray(mem, typ, n, valid, func(k int) int64 { return int64(word(k)) })
		}
	}
	return out
}

func (t *tupleTable[K]) compact(keep []uint32, _ []int32) {
	t.keys = aggCompact(t.keys, keep)
	if cap(t.tup) > 2*aggMaxBatchRows {
		t.tup, t.sids = nil, nil
	}
	if t.dict != nil {
		t.compactDict()
	}
	t.rehash(aggSlotsFor(len(t.keys)))
}

// compactDict drops the dictionary strings no group uses once they are more than half of it, and
// renumbers the ids held in the tuples.
func (t *tupleTable[K]) compactDict() {
	nd := t.dict.numGroups()
	if nd < 1024 {
		return
	}
	used := make([]bool, nd)
	live := 0
	for g := range t.keys {
		s := uint32(t.keys[g][0])
		if !used[s] {
			used[s] = true
			live++
		}
	}
	if 2*live > nd {
		return
	}
	keep := make([]uint32, 0, live)
	remap := make([]int32, nd)
	for s, u := range used {
		remap[s] = -1
		if u {
			remap[s] = int32(len(keep))
			keep = append(keep, uint32(s))
		}
	}
	t.dict.compact(keep, remap)
	for g := range t.keys {
		w := t.keys[g][0]
		t.keys[g][0] = w&^0xffffffff | uint64(remap[uint32(w)])
	}
}
