package exec

import (
	"math"

	"github.com/apache/arrow-go/v18/arrow"
)

// Join keys of a SymmetricHashJoin. A key of one 8-byte column (BIGINT, TIMESTAMP, INTERVAL
// stored as microseconds, DOUBLE) is "fixed": its hash is a bijection of the value (a DOUBLE
// normalized first: -0.0 as 0.0, every NaN as one NaN, the equality appendKeyValue encodes), so
// equal hashes mean equal keys and a group is found from the index's slots alone, without reading
// the group to compare keys or encoding the key into bytes. Other keys are encoded with
// appendKeyValue and hashed with aggHashBytes; their groups keep the encoding to compare.

// fixedJoinKey reports whether keys (column indexes of s) make a fixed key.
func fixedJoinKey(s *arrow.Schema, keys []int) bool {
	if len(keys) != 1 {
		return false
	}
	switch s.Field(keys[0]).Type.ID() {
	case arrow.INT64, arrow.TIMESTAMP, arrow.DURATION, arrow.FLOAT64:
		return true
	}
	return false
}

// joinKeyCols are the key columns of one pushed record, prepared for rowKey.
type joinKeyCols struct {
	cols  []arrow.Array
	w8    []int64 // the fixed key's values
	float bool
}

func (j *SymmetricHashJoin) keyColsOf(rec arrow.RecordBatch, side *joinSide) joinKeyCols {
	kc := joinKeyCols{cols: columnsOf(rec, side.keys)}
	if j.fixedKey {
		kc.w8 = fixedValues[int64](kc.cols[0])
		kc.float = kc.cols[0].DataType().ID() == arrow.FLOAT64
	}
	return kc
}

// rowKey returns the hash of row r's join key and, for a key that is not fixed, its encoding (in
// j.keyBuf, valid until the next call); ok is false when a key column is NULL.
func (j *SymmetricHashJoin) rowKey(kc joinKeyCols, r int) (h uint64, key []byte, ok bool) {
	if j.fixedKey {
		if kc.cols[0].IsNull(r) {
			return 0, nil, false
		}
		v := uint64(kc.w8[r])
		if kc.float {
			switch f := math.Float64frombits(v); {
			case f == 0:
				v = 0
			case f != f:
				v = math.Float64bits(math.NaN())
			}
		}
		return fixedKeyHash(v), nil, true
	}
	key, ok = j.encodeKey(kc.cols, r)
	if !ok {
		return 0, nil, false
	}
	return aggHashBytes(key), key, true
}

// fixedKeyHash is the splitmix64 finalizer: a bijection of 64-bit values whose low bits (the
// hash index's home slot) depend on every bit of the value.
func fixedKeyHash(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// findGroup returns the group of the join key hashing to h (encoded as key unless the key is
// fixed), or -1.
func (s *joinSide) findGroup(h uint64, key []byte) int32 {
	if key == nil {
		return s.groups.findHash(h)
	}
	return s.groups.find(h, func(g int32) bool { return s.gkeys[g].equals(key) })
}

func (g *joinGroupKey) equals(key []byte) bool {
	if g.klen != len(key) {
		return false
	}
	if len(key) <= len(g.small) {
		return string(g.small[:len(key)]) == string(key)
	}
	return g.key == string(key)
}

// newJoinGroupKey is the key hashing to h (key nil for a fixed key).
func newJoinGroupKey(h uint64, key []byte) joinGroupKey {
	g := joinGroupKey{hash: h, klen: len(key)}
	if len(key) <= len(g.small) {
		copy(g.small[:], key)
	} else {
		g.key = string(key)
	}
	return g
}
