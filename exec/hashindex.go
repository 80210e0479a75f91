package exec

// hashIndex maps 64-bit hashes to int32 ids with open addressing and linear probing, for the
// streaming operators' state indexes (join keys, whole rows). It stores only the hash and the id:
// the caller keeps each id's key and passes an equality test to find, so keys of any encoding
// can be indexed without the per-entry string map lookups of a Go map. Removal shifts the
// following slots back (no tombstones), so lookups stay short under constant insert/delete churn.
type hashIndex struct {
	slots []hashSlot // power-of-two length, at most half full
	mask  uint64
	n     int
}

type hashSlot struct {
	hash uint64
	id1  uint32 // id + 1; 0 marks an empty slot
}

func (h *hashIndex) len() int { return h.n }

// find returns the id with this hash for which eq holds, or -1.
func (h *hashIndex) find(hash uint64, eq func(id int32) bool) int32 {
	if h.n == 0 {
		return -1
	}
	for i := hash & h.mask; ; i = (i + 1) & h.mask {
		s := h.slots[i]
		if s.id1 == 0 {
			return -1
		}
		if s.hash == hash && eq(int32(s.id1-1)) {
			return int32(s.id1 - 1)
		}
	}
}

// insert adds id under hash; the caller has checked it is not present.
func (h *hashIndex) insert(hash uint64, id int32) {
	if 2*(h.n+1) > len(h.slots) {
		h.grow()
	}
	h.place(hash, uint32(id)+1)
	h.n++
}

func (h *hashIndex) place(hash uint64, id1 uint32) {
	i := hash & h.mask
	for h.slots[i].id1 != 0 {
		i = (i + 1) & h.mask
	}
	h.slots[i] = hashSlot{hash: hash, id1: id1}
}

func (h *hashIndex) grow() {
	old := h.slots
	n := max(16, 2*len(old))
	h.slots = make([]hashSlot, n)
	h.mask = uint64(n - 1)
	for _, s := range old {
		if s.id1 != 0 {
			h.place(s.hash, s.id1)
		}
	}
}

// remove deletes id (stored under hash), shifting later slots of the probe run back.
func (h *hashIndex) remove(hash uint64, id int32) {
	i := hash & h.mask
	for h.slots[i].id1 != uint32(id)+1 {
		if h.slots[i].id1 == 0 {
			return
		}
		i = (i + 1) & h.mask
	}
	for j := (i + 1) & h.mask; h.slots[j].id1 != 0; j = (j + 1) & h.mask {
		home := h.slots[j].hash & h.mask
		// Move slot j into the hole at i unless its home lies cyclically in (i, j].
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			h.slots[i] = h.slots[j]
			i = j
		}
	}
	h.slots[i] = hashSlot{}
	h.n--
}

// reset empties the index.
func (h *hashIndex) reset() { *h = hashIndex{} }

// findHash returns the first id stored under hash, or -1: for keys whose hash identifies them.
func (h *hashIndex) findHash(hash uint64) int32 {
	if h.n == 0 {
		return -1
	}
	for i := hash & h.mask; ; i = (i + 1) & h.mask {
		s := h.slots[i]
		if s.id1 == 0 {
			return -1
		}
		if s.hash == hash {
			return int32(s.id1 - 1)
		}
	}
}
