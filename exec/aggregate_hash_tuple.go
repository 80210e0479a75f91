package exec

import (
	"encoding/binary"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The group table for keys of several columns that are all fixed-width (BIGINT, TIMESTAMP,
// INTERVAL, DATE, BOOLEAN, DOUBLE) except at most one VARCHAR: the shape of every
// `GROUP BY key, window(...)` (key, window_start, window_end).
//
// Each row's key becomes a tuple of 64-bit words compared with ==. With a VARCHAR column:
//
//	word 0      the string: its bytes (little-endian, zero padded) when at most 8 bytes long,
//	            else its entry in the long-string dictionary (a bytesTable); 0 when NULL
//	word 1      meta: the inline length (bits 0-3), tupleLong (word 0 is a dictionary entry),
//	            tupleNullStr; and the NULL flags of the fixed-width columns (bit 32+j for column j)
//	word 2+j    fixed column j widened to 64 bits (int64Table's mapping: DOUBLE by aggFloatKey, so
//	            -0.0 == 0.0 and all NaNs are one key; BOOLEAN 0/1; DATE sign-extended), 0 when NULL
//
// Without a VARCHAR the meta word is word 0 and fixed column j is word 1+j. A string has exactly
// one representation (by its length) and NULLs zero their value word and set their flag, so equal
// tuples are exactly equal key tuples with NULLs equal to each other (SQL grouping semantics).
// Short strings, the common case of codes and names, are thus compared without touching any
// other memory. The slot array holds the whole tuple next to the group id, so a probe reads one
// slot; hashing mixes pairs of words with 64x64->128-bit multiplies.
//
// The dictionary only grows between evictions; compact drops the strings no surviving group uses
// once they are more than half of it, so its memory follows the live groups too.

// tupleMaxFixed is the most fixed-width key columns the tuple table serves.
const tupleMaxFixed = 3

// Meta word bits of the VARCHAR column.
const (
	tupleLong    = 1 << 4 // word 0 is a long-string dictionary entry
	tupleNullStr = 1 << 5 // the VARCHAR is NULL
)

// tupleKey is the tuple of a key: the meta word, up to tupleMaxFixed fixed-width column words and
// with a VARCHAR its string word (at least two columns, so at least three words).
type tupleKey interface {
	[3]uint64 | [4]uint64 | [5]uint64
}

type tupleSlot[K tupleKey] struct {
	key  K
	gid1 uint32 // group id + 1; 0 marks an empty slot
}

type tupleTable[K tupleKey] struct {
	types  []arrow.DataType
	strCol int            // key column of the VARCHAR, -1 for none
	meta   int            // word index of the meta word (1 with a VARCHAR, else 0)
	fixed  []int          // key column of fixed word meta+1+j
	long   *bytesTable    // strings over 8 bytes, nil without a VARCHAR
	slots  []tupleSlot[K] // power-of-two length, see aggTableFull
	shift  uint           // 64 - log2(len(slots))
	keys   []K            // tuple of each group id
	tup    []K            // the batch's tuples, reused
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
	words := 1 + len(types) // meta word, one per column
	switch words {
	case 3:
		return newTupleTableOf[[3]uint64](types)
	case 4:
		return newTupleTableOf[[4]uint64](types)
	}
	return newTupleTableOf[[5]uint64](types)
}

func newTupleTableOf[K tupleKey](types []arrow.DataType) *tupleTable[K] {
	t := &tupleTable[K]{types: types, strCol: -1, slots: make([]tupleSlot[K], 1024), shift: 64 - 10}
	for c, typ := range types {
		if typ.ID() == arrow.STRING {
			t.strCol, t.meta = c, 1
			t.long = newBytesTable()
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
	n := int64(cap(t.slots))*(w+8) + int64(cap(t.keys)+cap(t.tup))*w
	if t.long != nil {
		n += t.long.bytes()
	}
	return n
}

// tupleHash mixes the words of k pairwise (independent multiplies; an odd last word is paired
// with a constant); the table uses the top bits.
func tupleHash[K tupleKey](k *K) uint64 {
	h := aggMix((*k)[0]^0xa0761d6478bd642f, (*k)[1]^0xe7037ed1a0b428db)
	for j := 2; j < len(*k); j += 2 {
		x := uint64(0x589965cc75374cc3)
		if j+1 < len(*k) {
			x ^= (*k)[j+1]
		}
		h ^= aggMix((*k)[j]^0x8ebc6af09c88c6e3, x)
	}
	return h
}

// tupleChunk is how many rows' tuples are built before they are probed: the scratch tuples (at
// most 40 bytes a row) stay in the L2 cache between the two passes.
const tupleChunk = 2048

func (t *tupleTable[K]) assign(keys []arrow.Array, n int, ids []uint32) {
	for lo := 0; lo < n; lo += tupleChunk {
		hi := min(n, lo+tupleChunk)
		t.probe(t.fill(keys, lo, hi), ids[lo:hi])
	}
}

// probe writes the group id of each tuple of tup to ids, creating groups for new tuples.
func (t *tupleTable[K]) probe(tup []K, ids []uint32) {
	slots, shift := t.slots, t.shift
	mask := uint64(len(slots) - 1)
	ids = ids[:len(tup)]
	for i := range tup {
		k := &tup[i]
		// tupleHash(k), written out: the compiler does not inline it (cost over budget).
		h := aggMix((*k)[0]^0xa0761d6478bd642f, (*k)[1]^0xe7037ed1a0b428db)
		for j := 2; j < len(*k); j += 2 {
			x := uint64(0x589965cc75374cc3)
			if j+1 < len(*k) {
				x ^= (*k)[j+1]
			}
			h ^= aggMix((*k)[j]^0x8ebc6af09c88c6e3, x)
		}
		h >>= shift
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

// fill builds the tuples of rows lo..hi-1 of keys in t.tup[:hi-lo], column by column.
func (t *tupleTable[K]) fill(keys []arrow.Array, lo, hi int) []K {
	n := hi - lo
	if cap(t.tup) < n {
		t.tup = make([]K, n)
	}
	tup := t.tup[:n]
	if t.strCol >= 0 {
		t.fillString(tup, keys[t.strCol], lo)
	} else {
		for i := range tup {
			tup[i][0] = 0
		}
	}
	m := t.meta
	for j, c := range t.fixed {
		col := keys[c]
		w := m + 1 + j
		switch col.DataType().ID() {
		case arrow.INT64, arrow.TIMESTAMP, arrow.DURATION:
			for i, v := range fixedValues[int64](col)[lo:hi] {
				tup[i][w] = uint64(v)
			}
		case arrow.DATE32:
			for i, v := range fixedValues[int32](col)[lo:hi] {
				tup[i][w] = uint64(int64(v))
			}
		case arrow.FLOAT64:
			for i, v := range fixedValues[float64](col)[lo:hi] {
				tup[i][w] = uint64(aggFloatKey(v))
			}
		case arrow.BOOL:
			bits, off := col.Data().Buffers()[1].Bytes(), col.Data().Offset()+lo
			for i := range tup {
				tup[i][w] = uint64(bits[(off+i)>>3]>>((off+i)&7)) & 1
			}
		}
		if vb, off := aggValidity(col); vb != nil {
			off += lo
			flag := uint64(1) << (32 + j)
			for i := range tup {
				if !bitutil.BitIsSet(vb, off+i) {
					tup[i][w] = 0
					tup[i][m] |= flag
				}
			}
		}
	}
	return tup
}

// fillString writes the string and meta words (0 and 1) of rows lo..lo+len(tup)-1 of the
// VARCHAR column col.
func (t *tupleTable[K]) fillString(tup []K, col arrow.Array, lo int) {
	offs := col.(*array.String).ValueOffsets()[lo:]
	var data []byte
	if buf := col.Data().Buffers()[2]; buf != nil {
		data = buf.Bytes()
	}
	vb, off := aggValidity(col)
	off += lo
	for i := range tup {
		if vb != nil && !bitutil.BitIsSet(vb, off+i) {
			tup[i][0], tup[i][1] = 0, tupleNullStr
			continue
		}
		start, end := int(offs[i]), int(offs[i+1])
		if end-start <= 8 {
			tup[i][0], tup[i][1] = aggStrPrefix(data, start, end), uint64(end-start)
			continue
		}
		b := data[start:end]
		e, _ := t.long.getOrInsert(b, aggHashBytes(b))
		tup[i][0], tup[i][1] = uint64(e), tupleLong
	}
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
	if t.strCol >= 0 {
		out[t.strCol] = t.stringColumn(mem, gids)
	}
	m := t.meta
	for j, c := range t.fixed {
		w, flag := m+1+j, uint64(1)<<(32+j)
		valid := func(k int) bool { return t.keys[gids[k]][m]&flag == 0 }
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

// stringColumn decodes the VARCHAR of groups gids.
func (t *tupleTable[K]) stringColumn(mem memory.Allocator, gids []uint32) arrow.Array {
	b := array.NewStringBuilder(mem)
	defer b.Release()
	b.Reserve(len(gids))
	var short [8]byte
	for _, g := range gids {
		s, meta := t.keys[g][0], t.keys[g][1]
		switch {
		case meta&tupleNullStr != 0:
			b.AppendNull()
		case meta&tupleLong != 0:
			b.BinaryBuilder.Append(t.long.entry(uint32(s)))
		default:
			binary.LittleEndian.PutUint64(short[:], s)
			b.BinaryBuilder.Append(short[:meta&15])
		}
	}
	return b.NewArray()
}

func (t *tupleTable[K]) compact(keep []uint32, _ []int32) {
	before := len(t.keys)
	t.keys = aggCompact(t.keys, keep)
	if t.long != nil {
		t.compactLong()
	}
	// Performance: the slot array is sized for the groups held before this compaction, not the
	// survivors. A windowed aggregate evicts most groups every epoch and recreates as many during
	// the next one; sizing for the survivors would pay the whole chain of growth rehashes (random
	// writes into a table larger than the cache) again every epoch. Memory still follows the live
	// groups, one compaction late: the peak of each epoch sizes the table of the next.
	t.rehash(aggSlotsFor(before))
}

// compactLong drops the long strings no group uses once they are more than half of the
// dictionary, and renumbers the entries held in the tuples.
func (t *tupleTable[K]) compactLong() {
	nd := t.long.len()
	if nd < 1024 {
		return
	}
	used := make([]bool, nd)
	live := 0
	for g := range t.keys {
		if s, meta := t.keys[g][0], t.keys[g][1]; meta&tupleLong != 0 && !used[s] {
			used[s] = true
			live++
		}
	}
	if 2*live > nd {
		return
	}
	keep := make([]uint32, 0, live)
	remap := make([]uint64, nd)
	for e, u := range used {
		if u {
			remap[e] = uint64(len(keep))
			keep = append(keep, uint32(e))
		}
	}
	t.long.compact(keep)
	for g := range t.keys {
		if t.keys[g][1]&tupleLong != 0 {
			t.keys[g][0] = remap[t.keys[g][0]]
		}
	}
}
