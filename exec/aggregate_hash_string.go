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

// Byte-string keys: a single VARCHAR group column (hashed straight from the Arrow offsets and data
// buffers) and, through serialTable, every other key shape.

// bytesTable maps byte strings to dense entry numbers 0, 1, 2, ... in order of insertion. Entry
// bytes are copied into one arena; the caller's slices are never retained.
type bytesTable struct {
	slots  []bytesSlot // power-of-two length, at most a quarter full
	arena  []byte
	offs   []int    // entry e is arena[offs[e]:offs[e+1]]
	hashes []uint64 // hash of each entry, for rehashing
	hidden int64    // the entry added by addUnindexed, -1 if none
}

type bytesSlot struct {
	tag  uint32 // high half of the hash
	eid1 uint32 // entry + 1; 0 marks an empty slot
}

func newBytesTable() *bytesTable {
	return &bytesTable{slots: make([]bytesSlot, 1024), offs: []int{0}, hidden: -1}
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
	if 4*len(t.hashes) > len(t.slots) {
		t.rehash(2 * len(t.slots))
	} else {
		t.slots[slot] = bytesSlot{tag: uint32(h >> 32), eid1: e + 1}
	}
	return e
}

// addUnindexed appends an empty entry that lookups never find (the NULL group of a single VARCHAR
// key) and returns its number. A table has at most one.
func (t *bytesTable) addUnindexed() uint32 {
	e := t.appendEntry(nil, 0)
	t.hidden = int64(e)
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
		if int64(e) == t.hidden {
			continue
		}
		i := h & mask
		for t.slots[i].eid1 != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = bytesSlot{tag: uint32(h >> 32), eid1: uint32(e) + 1}
	}
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

// stringTable is the group table of a single VARCHAR key. Group ids are the entries of a
// bytesTable; the NULL group is an unindexed empty entry.
type stringTable struct {
	t       *bytesTable
	nullGid int64
}

func newStringTable() *stringTable { return &stringTable{t: newBytesTable(), nullGid: -1} }

func (s *stringTable) numGroups() int { return s.t.len() }
func (s *stringTable) bytes() int64   { return s.t.bytes() }

func (s *stringTable) assign(keys []arrow.Array, n int, ids []uint32) {
	col := keys[0]
	d := col.Data()
	offs := arrow.Int32Traits.CastFromBytes(d.Buffers()[1].Bytes())[d.Offset() : d.Offset()+n+1]
	var data []byte
	if buf := d.Buffers()[2]; buf != nil {
		data = buf.Bytes()
	}
	vb, off := aggValidity(col)
	t := s.t
	// The probe loop of bytesTable.getOrInsert, inlined with the table in locals (reloaded after
	// an insert, which may grow the slots and the arena).
	slots, arena, eoffs := t.slots, t.arena, t.offs
	mask := uint64(len(slots) - 1)
	ids = ids[:n]
	for i := range ids {
		if vb != nil && !bitutil.BitIsSet(vb, off+i) {
			if s.nullGid < 0 {
				s.nullGid = int64(t.addUnindexed())
				slots, arena, eoffs = t.slots, t.arena, t.offs
			}
			ids[i] = uint32(s.nullGid)
			continue
		}
		b := data[offs[i]:offs[i+1]]
		h := aggHashBytes(b)
		tag := uint32(h >> 32)
		j := h & mask
		for {
			sl := slots[j]
			if sl.eid1 == 0 {
				ids[i] = t.insertAt(b, h, j)
				slots, arena, eoffs = t.slots, t.arena, t.offs
				mask = uint64(len(slots) - 1)
				break
			}
			if sl.tag == tag {
				e := sl.eid1 - 1
				if string(arena[eoffs[e]:eoffs[e+1]]) == string(b) {
					ids[i] = e
					break
				}
			}
			j = (j + 1) & mask
		}
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
		b.BinaryBuilder.Append(s.t.entry(g))
	}
	return []arrow.Array{b.NewArray()}
}
