package exec

import (
	"bytes"
	"math/bits"
	"slices"
)

// dedupSet is the deduplication's set of held keys: a compact open-addressing table (linear
// probing, at most half full) of 8-byte slots, each the high 32 bits of a key's hash (the tag)
// and its id + 1, over keys stored by id in dedupKeys' layout (words in one slab, or bytes in an
// arena). A key's home slot is the top bits of its tag, so moving, rehashing and rebuilding slots
// reads only the slot array.
// Ids are dense and reused after removal, so per-key data of the owner lives in slices indexed by
// id. Removal shifts the following slots back (no tombstones), so probes stay short under the
// constant insert/evict churn of a stream.
type dedupSet struct {
	stride int      // dedupKeys.stride: words per key, 0 for bytes
	slots  []uint64 // hash>>32 << 32 | id+1; 0 is empty
	mask   uint64
	shift  uint // home(slot) = slot >> shift: the top log2(len(slots)) bits of the hash
	n      int

	hashes []uint64 // by id
	words  []uint64 // words layout: id's key is words[id*stride : (id+1)*stride]
	koff   []int    // bytes layout: id's key is arena[koff[id] : koff[id]+klen[id]]
	klen   []int32
	arena  []byte
	waste  int // arena bytes of removed keys

	free []int32
	ids  int32  // ids allocated (live + free)
	sink uint64 // keeps touch's loads from being optimized away
	gone []bool // scratch of removeAll, all false between calls
	peak int    // the most keys held since the last tidy
	// minSlots is the smallest table (a power of two; 0 means 1024).
	minSlots int
}

func newDedupSet(stride int) *dedupSet { return &dedupSet{stride: stride} }

func (s *dedupSet) smallest() int {
	if s.minSlots > 0 {
		return s.minSlots
	}
	return 1024
}

func (s *dedupSet) len() int { return s.n }

// insert adds row r of the encoded batch k unless its key is held; it returns the key's id and
// whether it was added.
func (s *dedupSet) insert(k *dedupKeys, r int) (int32, bool) {
	if 2*(s.n+1) > len(s.slots) {
		s.resize(max(s.smallest(), 2*len(s.slots)))
	}
	h := k.hashes[r]
	tag := h >> 32 << 32
	i := h >> s.shift
	if s.stride > 0 {
		key := k.rowWords(r)
		for {
			sl := s.slots[i]
			if sl == 0 {
				break
			}
			if sl&^0xffffffff == tag {
				id := int32(uint32(sl) - 1)
				if wordsEqual(s.words[int(id)*s.stride:int(id+1)*s.stride], key) {
					return id, false
				}
			}
			i = (i + 1) & s.mask
		}
	} else {
		key := k.rowBytes(r)
		for {
			sl := s.slots[i]
			if sl == 0 {
				break
			}
			if sl&^0xffffffff == tag {
				id := int32(uint32(sl) - 1)
				if o := s.koff[id]; bytes.Equal(s.arena[o:o+int(s.klen[id])], key) {
					return id, false
				}
			}
			i = (i + 1) & s.mask
		}
	}
	id := s.newID()
	s.hashes[id] = h
	if s.stride > 0 {
		copy(s.words[int(id)*s.stride:], k.rowWords(r))
	} else {
		key := k.rowBytes(r)
		s.koff[id], s.klen[id] = len(s.arena), int32(len(key))
		s.arena = append(s.arena, key...)
	}
	s.slots[i] = tag | uint64(uint32(id)+1)
	s.n++
	s.peak = max(s.peak, s.n)
	return id, true
}

// insertRows inserts the rows of the encoded batch k (as insert does, in order), setting
// added[i] and ids[i] for rows[i]. The table and key slabs are far larger than the caches, so
// each probe would wait for memory in turn; rows are taken in groups whose home slots and first
// candidate keys are touched first, letting the loads of a group overlap.
func (s *dedupSet) insertRows(k *dedupKeys, rows []int32, ids []int32, added []bool) {
	if len(s.slots) == 0 {
		s.resize(s.smallest())
	}
	const group = 64
	for lo := 0; lo < len(rows); lo += group {
		g := rows[lo:min(lo+group, len(rows))]
		s.touch(k, g)
		for j, r := range g {
			ids[lo+j], added[lo+j] = s.insert(k, int(r))
		}
	}
}

// touch loads the home slot of each row, then the key a non-empty home slot names.
func (s *dedupSet) touch(k *dedupKeys, rows []int32) {
	var acc uint64
	for _, r := range rows {
		acc += s.slots[k.hashes[r]>>s.shift]
	}
	if s.stride > 0 {
		for _, r := range rows {
			if sl := s.slots[k.hashes[r]>>s.shift]; sl != 0 {
				acc += s.words[int(uint32(sl)-1)*s.stride]
			}
		}
	}
	s.sink += acc
}

func wordsEqual(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (s *dedupSet) newID() int32 {
	if n := len(s.free); n > 0 {
		id := s.free[n-1]
		s.free = s.free[:n-1]
		return id
	}
	id := s.ids
	s.ids++
	s.hashes = append(s.hashes, 0)
	if s.stride > 0 {
		s.words = slices.Grow(s.words, s.stride)[:len(s.words)+s.stride]
	} else {
		s.koff = append(s.koff, 0)
		s.klen = append(s.klen, 0)
	}
	return id
}

// remove forgets the held key id; its id may be handed out again by insert.
func (s *dedupSet) remove(id int32) {
	want := uint64(uint32(id) + 1)
	i := s.hashes[id] >> s.shift
	for uint64(uint32(s.slots[i])) != want {
		i = (i + 1) & s.mask
	}
	// Backward-shift deletion: move each following entry of the cluster into the hole unless its
	// home slot lies cyclically in (hole, its slot].
	for j := (i + 1) & s.mask; s.slots[j] != 0; j = (j + 1) & s.mask {
		home := s.slots[j] >> s.shift
		if (j-home)&s.mask >= (j-i)&s.mask {
			s.slots[i] = s.slots[j]
			i = j
		}
	}
	s.slots[i] = 0
	s.n--
	s.release(id)
}

func (s *dedupSet) release(id int32) {
	if s.stride == 0 {
		s.waste += int(s.klen[id])
		s.klen[id] = 0
	}
	s.free = append(s.free, id)
}

// removeAll forgets the held keys ids (each held, none twice). Removing many keys at once empties
// their slots in one pass and re-places the rest in another, instead of a probe and shift per key
// (random accesses to slots and keys).
func (s *dedupSet) removeAll(ids []int32) {
	if 4*len(ids) < s.n {
		for _, id := range ids {
			s.remove(id)
		}
		return
	}
	if cap(s.gone) < int(s.ids) {
		s.gone = make([]bool, s.ids)
	}
	gone := s.gone[:s.ids]
	for _, id := range ids {
		gone[id] = true
	}
	for i, sl := range s.slots {
		if sl != 0 && gone[uint32(sl)-1] {
			s.slots[i] = 0
		}
	}
	for _, id := range ids {
		gone[id] = false
		s.release(id)
	}
	s.n -= len(ids)
	s.replace()
}

// replace moves every key back to where a probe from its home slot finds it, after slots were
// emptied without shifting: in one cyclic pass starting after an empty slot, each key is taken
// out and put in the first empty slot from its home (never later than where it was).
func (s *dedupSet) replace() {
	start := 0
	for s.slots[start] != 0 {
		start++
	}
	for k := 1; k <= len(s.slots); k++ {
		i := (uint64(start) + uint64(k)) & s.mask
		sl := s.slots[i]
		if sl == 0 {
			continue
		}
		s.slots[i] = 0
		j := sl >> s.shift
		for s.slots[j] != 0 {
			j = (j + 1) & s.mask
		}
		s.slots[j] = sl
	}
}

// tidy shrinks the table and compacts the key arena after many removals; call it between
// batches, e.g. after an eviction (ids do not change). The table shrinks only when it was mostly
// empty since the last tidy too, so a stream whose state rises and falls every epoch does not
// rehash its keys every epoch.
func (s *dedupSet) tidy() {
	if len(s.slots) > s.smallest() && 8*s.peak < len(s.slots) {
		s.resize(max(s.smallest(), nextPow2(4*s.n)))
	}
	s.peak = s.n
	if s.stride == 0 && s.waste > 1<<20 && 2*s.waste > len(s.arena) {
		live := make([]bool, s.ids)
		for _, sl := range s.slots {
			if sl != 0 {
				live[uint32(sl)-1] = true
			}
		}
		arena := make([]byte, 0, len(s.arena)-s.waste)
		for id := range live {
			if live[id] {
				o := s.koff[id]
				s.koff[id] = len(arena)
				arena = append(arena, s.arena[o:o+int(s.klen[id])]...)
			}
		}
		s.arena, s.waste = arena, 0
	}
}

func nextPow2(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}

// resize rehashes every held key into a table of size slots (a power of two above 2n).
func (s *dedupSet) resize(size int) { s.rebuild(size) }

// rebuild places every held key into a fresh table of size slots.
func (s *dedupSet) rebuild(size int) {
	old := s.slots
	s.slots = make([]uint64, size)
	s.mask = uint64(size - 1)
	s.shift = uint(64 - bits.TrailingZeros(uint(size)))
	for _, sl := range old {
		if sl == 0 {
			continue
		}
		i := sl >> s.shift
		for s.slots[i] != 0 {
			i = (i + 1) & s.mask
		}
		s.slots[i] = sl
	}
}

// reset forgets every key.
func (s *dedupSet) reset() { *s = dedupSet{stride: s.stride, minSlots: s.minSlots} }

// clear forgets every key but keeps the table and the key arrays for reuse (the next keys are
// likely as many).
func (s *dedupSet) clear() {
	clear(s.slots)
	s.hashes, s.words, s.koff, s.klen, s.arena = s.hashes[:0], s.words[:0], s.koff[:0], s.klen[:0], s.arena[:0]
	s.free = s.free[:0]
	s.n, s.ids, s.waste, s.peak = 0, 0, 0, 0
}
