package state

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
)

// keyIndex maps the keys changed in a chain's changelogs to what their last change was,
// without keeping the keys' bytes: an open-addressing table (linear probing) of entry numbers,
// and per key an entry of fixed width holding its 64-bit hash and the changelog row of its
// latest change (about 32 bytes a key, against about 60 for a Go map of key strings and a slice
// of entries; no allocation per key). Two keys with the same hash are told apart by encoding the
// entry's key again from its row and comparing the bytes, so a collision costs time, never a
// wrong merge.
type keyIndex struct {
	hash    func([]byte) uint64
	recs    []arrow.RecordBatch // the changelog records, oldest first; entries point into them
	keyCols int
	slots   []uint32 // entry number + 1, 0 for an empty slot; the length is a power of two
	entries []changeEntry
	scratch []byte
}

type changeEntry struct {
	hash     uint64
	rec, row uint32 // the key's latest change: record of keyIndex.recs, row
	seq      uint32 // order of (re)appearance
	deleted  bool   // the latest change deletes the key
	moved    bool   // deleted at some point: a base row of the key is stale
	inBase   bool   // the base holds the key
}

// maxIndexedRows bounds the changelog rows one merge indexes (entry numbers and rows are 32-bit).
const maxIndexedRows = 1<<31 - 1

// newKeyIndex sizes the table for rows changelog rows (at most that many distinct keys), so it
// never grows: at most half its slots are used. hash nil is maphash with a fresh seed.
func newKeyIndex(recs []arrow.RecordBatch, keyCols int, rows int, hash func([]byte) uint64) (*keyIndex, error) {
	if rows > maxIndexedRows {
		return nil, fmt.Errorf("changelog: %d rows in one chain, more than a merge indexes (%d); compact more often (state_compaction_epochs)", rows, maxIndexedRows)
	}
	if hash == nil {
		seed := maphash.MakeSeed()
		hash = func(b []byte) uint64 { return maphash.Bytes(seed, b) }
	}
	n := 16
	if rows > 8 {
		n = 1 << bits.Len(uint(2*rows-1))
	}
	return &keyIndex{hash: hash, recs: recs, keyCols: keyCols, slots: make([]uint32, n), entries: make([]changeEntry, 0, rows)}, nil
}

// find returns key's entry number (h is its hash), or -1 and the empty slot where it would go.
func (ix *keyIndex) find(key []byte, h uint64) (entry int, slot int) {
	mask := len(ix.slots) - 1
	for s := int(h) & mask; ; s = (s + 1) & mask {
		v := ix.slots[s]
		if v == 0 {
			return -1, s
		}
		e := &ix.entries[v-1]
		if e.hash != h {
			continue
		}
		r := ix.recs[e.rec]
		ix.scratch = appendKey(ix.scratch[:0], r.Columns()[:ix.keyCols], int(e.row))
		if bytes.Equal(ix.scratch, key) {
			return int(v - 1), s
		}
	}
}

// add puts a new entry for a key with hash h into the empty slot find returned.
func (ix *keyIndex) add(slot int, h uint64, rec, row uint32) int {
	i := len(ix.entries)
	ix.entries = append(ix.entries, changeEntry{hash: h, rec: rec, row: row, deleted: true})
	ix.slots[slot] = uint32(i + 1)
	return i
}
