package exec

import (
	"bytes"
	"encoding/binary"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Byte-string keys: a single VARCHAR group column (stringTable) and the serialized keys of every
// other key shape (bytesTable, used by serialTable and the DISTINCT sets).

// bytesTable maps byte strings to dense entry numbers 0, 1, 2, ... in order of insertion. Entry
// bytes are copied into one arena; the caller's slices are never retained.
type bytesTable struct {
	slots  []bytesSlot // power-of-two length, see aggTableFull
	arena  []byte
	offs   []int    // entry e is arena[offs[e]:offs[e+1]]
	hashes []uint64 // hash of each entry, for rehashing
}

type bytesSlot struct {
	tag  uint32 // high half of the hash
	eid1 uint32 // entry + 1; 0 marks an empty slot
}

func newBytesTable() *bytesTable {
	return &bytesTable{slots: make([]bytesSlot, 1024), offs: []int{0}}
}

func (t *bytesTable) len() int { return len(t.hashes) }

func (t *bytesTable) entry(e uint32) []byte { return t.arena[t.offs[e]:t.offs[e+1]] }

func (t *bytesTable) bytes() int64 {
	return int64(cap(t.slots))*8 + int64(cap(t.arena)) + int64(cap(t.offs))*8 + int64(cap(t.hashes))*8
}

// getOrInsert returns the entry of b (whose hash is h), adding it if absent.
func (t *bytesTable) getOrInsert(b []byte, h uint64) (e uint32, inserted bool) {
	mask := uint64(len(t.slots) - 1)
	tag := uint32(h >> 32)
	i := h & mask
	for {
		s := t.slots[i]
		if s.eid1 == 0 {
			return t.insertAt(b, h, i), true
		}
		if s.tag == tag {
			e := s.eid1 - 1
			if bytes.Equal(t.arena[t.offs[e]:t.offs[e+1]], b) {
				return e, false
			}
		}
		i = (i + 1) & mask
	}
}

func (t *bytesTable) insertAt(b []byte, h uint64, slot uint64) uint32 {
	e := t.appendEntry(b, h)
	if aggTableFull(len(t.hashes), len(t.slots)) {
		t.rehash(2 * len(t.slots))
	} else {
		t.slots[slot] = bytesSlot{tag: uint32(h >> 32), eid1: e + 1}
	}
	return e
}

func (t *bytesTable) appendEntry(b []byte, h uint64) uint32 {
	e := uint32(len(t.hashes))
	t.arena = append(t.arena, b...)
	t.offs = append(t.offs, len(t.arena))
	t.hashes = append(t.hashes, h)
	return e
}

// rehash rebuilds the slot array with size slots from the entries.
func (t *bytesTable) rehash(size int) {
	t.slots = make([]bytesSlot, size)
	mask := uint64(size - 1)
	for e, h := range t.hashes {
		i := h & mask
		for t.slots[i].eid1 != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = bytesSlot{tag: uint32(h >> 32), eid1: uint32(e) + 1}
	}
}

// compact keeps entries keep (ascending) as entries 0..len(keep)-1, rebuilding the arena and the
// slot array.
func (t *bytesTable) compact(keep []uint32) {
	size := 0
	for _, e := range keep {
		size += t.offs[e+1] - t.offs[e]
	}
	arena := make([]byte, 0, size)
	offs := make([]int, 1, len(keep)+1)
	for _, e := range keep {
		arena = append(arena, t.arena[t.offs[e]:t.offs[e+1]]...)
		offs = append(offs, len(arena))
	}
	t.arena, t.offs = arena, offs
	t.hashes = aggCompact(t.hashes, keep)
	t.rehash(aggSlotsFor(len(keep)))
}

// aggHashBytes is a wyhash-style hash of b: fast on short keys, no allocation, deterministic.
func aggHashBytes(b []byte) uint64 {
	const (
		p0 = 0xa0761d6478bd642f
		p1 = 0xe7037ed1a0b428db
		p2 = 0x8ebc6af09c88c6e3
	)
	n := len(b)
	seed := uint64(n) ^ p0
	for len(b) > 16 {
		seed = aggMix(binary.LittleEndian.Uint64(b)^p1, binary.LittleEndian.Uint64(b[8:])^seed)
		b = b[16:]
	}
	var a, c uint64
	switch m := len(b); {
	case m >= 8:
		a, c = binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[m-8:])
	case m >= 4:
		a, c = uint64(binary.LittleEndian.Uint32(b)), uint64(binary.LittleEndian.Uint32(b[m-4:]))
	case m > 0:
		a = uint64(b[0])<<16 | uint64(b[m>>1])<<8 | uint64(b[m-1])
	}
	return aggMix(p2^uint64(n), aggMix(a^p1, c^seed))
}

func aggMix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// stringTable is the group table of a single VARCHAR key, read straight from the Arrow offsets and
// data buffers. A slot holds the key's first 8 bytes and, for keys of at most 8 bytes, their
// length: such keys (the common case of codes and names) are found without touching the arena.
// Longer keys also carry half their hash and are confirmed against the arena.
type stringTable struct {
	slots   []strSlot // power-of-two length, see aggTableFull
	arena   []byte
	offs    []int // group g's key is arena[offs[g]:offs[g+1]]
	nullGid int64 // group id of the NULL key, -1 until a NULL is seen
}

type strSlot struct {
	prefix uint64 // first 8 bytes of the key, zero padded
	meta   uint32 // key length if at most 8, else 1<<31 | hash>>33
	gid1   uint32 // group id + 1; 0 marks an empty slot
}

func newStringTable() *stringTable {
	return &stringTable{slots: make([]strSlot, 1024), offs: []int{0}, nullGid: -1}
}

func (s *stringTable) numGroups() int { return len(s.offs) - 1 }

func (s *stringTable) bytes() int64 {
	return int64(cap(s.slots))*16 + int64(cap(s.arena)) + int64(cap(s.offs))*8
}

// aggStrPrefix returns data[start:end]'s first (up to 8) bytes as a little-endian uint64.
func aggStrPrefix(data []byte, start, end int) uint64 {
	n := end - start
	if start+8 <= len(data) {
		v := binary.LittleEndian.Uint64(data[start:])
		if n < 8 {
			v &= ^uint64(0) >> (64 - 8*uint(n))
		}
		return v
	}
	var v uint64
	for k := min(n, 8) - 1; k >= 0; k-- {
		v = v<<8 | uint64(data[start+k])
	}
	return v
}

// aggStrHash hashes a key from its prefix, or all its bytes when longer than 8, and returns it
// with the slot meta.
func aggStrHash(b []byte, prefix uint64) (uint64, uint32) {
	if len(b) <= 8 {
		return aggMix(prefix^0xe7037ed1a0b428db, uint64(len(b))^0xa0761d6478bd642f), uint32(len(b))
	}
	h := aggHashBytes(b)
	return h, 1<<31 | uint32(h>>33)
}

func (s *stringTable) assign(keys []arrow.Array, n int, ids []uint32) {
	col := keys[0]
	offs := col.(*array.String).ValueOffsets()
	var data []byte
	if buf := col.Data().Buffers()[2]; buf != nil {
		data = buf.Bytes()
	}
	vb, off := aggValidity(col)
	slots, arena, eoffs := s.slots, s.arena, s.offs
	mask := uint64(len(slots) - 1)
	ids = ids[:n]
	for i := range ids {
		if vb != nil && !bitutil.BitIsSet(vb, off+i) {
			if s.nullGid < 0 {
				s.nullGid = int64(s.numGroups())
				s.offs = append(s.offs, len(s.arena))
				eoffs = s.offs
			}
			ids[i] = uint32(s.nullGid)
			continue
		}
		start, end := int(offs[i]), int(offs[i+1])
		b := data[start:end]
		p := aggStrPrefix(data, start, end)
		h, meta := aggStrHash(b, p)
		j := h & mask
		for {
			sl := &slots[j]
			if sl.prefix == p && sl.meta == meta && sl.gid1 != 0 {
				g := sl.gid1 - 1
				if meta <= 8 || string(arena[eoffs[g]:eoffs[g+1]]) == string(b) {
					ids[i] = g
					break
				}
			}
			if sl.gid1 == 0 {
				ids[i] = s.insert(b, p, meta, j)
				slots, arena, eoffs = s.slots, s.arena, s.offs
				mask = uint64(len(slots) - 1)
				break
			}
			j = (j + 1) & mask
		}
	}
}

// insert creates the group of key b, whose probe ended at the empty slot j.
func (s *stringTable) insert(b []byte, prefix uint64, meta uint32, j uint64) uint32 {
	g := uint32(s.numGroups())
	s.arena = append(s.arena, b...)
	s.offs = append(s.offs, len(s.arena))
	if aggTableFull(s.numGroups(), len(s.slots)) {
		s.rehash(2 * len(s.slots))
	} else {
		s.slots[j] = strSlot{prefix: prefix, meta: meta, gid1: g + 1}
	}
	return g
}

// rehash rebuilds the slot array with size slots from the group keys.
func (s *stringTable) rehash(size int) {
	s.slots = make([]strSlot, size)
	mask := uint64(size - 1)
	for g := 0; g < s.numGroups(); g++ {
		if int64(g) == s.nullGid {
			continue
		}
		b := s.arena[s.offs[g]:s.offs[g+1]]
		p := aggStrPrefix(s.arena, s.offs[g], s.offs[g+1])
		h, meta := aggStrHash(b, p)
		j := h & mask
		for s.slots[j].gid1 != 0 {
			j = (j + 1) & mask
		}
		s.slots[j] = strSlot{prefix: p, meta: meta, gid1: uint32(g) + 1}
	}
}

func (s *stringTable) keyColumns(mem memory.Allocator, gids []uint32) []arrow.Array {
	b := array.NewStringBuilder(mem)
	defer b.Release()
	b.Reserve(len(gids))
	for _, g := range gids {
		if int64(g) == s.nullGid {
			b.AppendNull()
			continue
		}
		b.BinaryBuilder.Append(s.arena[s.offs[g]:s.offs[g+1]])
	}
	return []arrow.Array{b.NewArray()}
}

func (s *stringTable) compact(keep []uint32, remap []int32) {
	if s.nullGid >= 0 {
		s.nullGid = int64(remap[s.nullGid])
	}
	size := 0
	for _, g := range keep {
		size += s.offs[g+1] - s.offs[g]
	}
	arena := make([]byte, 0, size)
	offs := make([]int, 1, len(keep)+1)
	for _, g := range keep {
		arena = append(arena, s.arena[s.offs[g]:s.offs[g+1]]...)
		offs = append(offs, len(arena))
	}
	s.arena, s.offs = arena, offs
	s.rehash(aggSlotsFor(len(keep)))
}
