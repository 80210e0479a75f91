package exec

import (
	"hash/maphash"
	"math"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// dedupKeys turns a whole batch of key columns into comparable keys and their hashes, column by
// column, for the deduplication's key set (dedupSet).
//
// Two layouts, chosen once from the key columns' types:
//
//   - words (every key column is BIGINT, TIMESTAMP, INTERVAL, DATE, BOOLEAN, DOUBLE or NULL, at
//     most 63 of them): a key is stride = columns+1 64-bit words; word j is column j widened to
//     64 bits (DOUBLE with -0.0 as 0.0 and every NaN as one NaN, so equality is PostgreSQL's), 0
//     when NULL, and the last word has bit j set when column j is NULL. Equal keys are exactly
//     equal word tuples, with NULLs equal to each other.
//   - bytes (any other types, e.g. VARCHAR or DECIMAL): a key is AppendRowKey's encoding.
//
// encode fills the batch's keys and hashes; they are valid until the next encode. Hashes are
// seeded per operator (hash/maphash's random seed), so colliding keys cannot be chosen from
// outside, and are never persisted.
type dedupKeys struct {
	stride int // words per key; 0 selects the bytes layout
	seed   maphash.Seed
	wseed  uint64 // the words layout's seed, derived from seed

	words  []uint64 // words layout: row r's key is words[r*stride : (r+1)*stride]
	buf    []byte   // bytes layout: row r's key is buf[offs[r]:offs[r+1]]
	offs   []int
	hashes []uint64
}

// dedupWordsMaxCols bounds the words layout: the NULL flags of all columns fit one word.
const dedupWordsMaxCols = 63

func newDedupKeys(types []arrow.DataType) *dedupKeys {
	k := &dedupKeys{seed: maphash.MakeSeed()}
	k.wseed = maphash.Bytes(k.seed, []byte("streamsql.dedup.words")) | 1
	if len(types) <= dedupWordsMaxCols {
		k.stride = len(types) + 1
		for _, t := range types {
			switch t.ID() {
			case arrow.INT64, arrow.TIMESTAMP, arrow.DURATION, arrow.DATE32, arrow.BOOL, arrow.FLOAT64, arrow.NULL:
			default:
				k.stride = 0
			}
		}
	}
	return k
}

// encode computes the keys and hashes of rows [0, n) of cols (borrowed; one array per key column,
// of the types given to newDedupKeys).
func (k *dedupKeys) encode(cols []arrow.Array, n int) {
	k.hashes = growUint64(k.hashes, n)
	if k.stride == 0 {
		k.encodeBytes(cols, n)
		return
	}
	s := k.stride
	k.words = growUint64(k.words, n*s)
	w := k.words[:n*s]
	nullw := s - 1
	for r := 0; r < n; r++ {
		w[r*s+nullw] = 0
	}
	for c, col := range cols {
		switch a := col.(type) {
		case *array.Int64:
			for r, v := range a.Int64Values()[:n] {
				w[r*s+c] = uint64(v)
			}
		case *array.Timestamp:
			for r, v := range a.TimestampValues()[:n] {
				w[r*s+c] = uint64(v)
			}
		case *array.Duration:
			for r, v := range a.DurationValues()[:n] {
				w[r*s+c] = uint64(v)
			}
		case *array.Date32:
			for r, v := range a.Date32Values()[:n] {
				w[r*s+c] = uint64(int64(v))
			}
		case *array.Float64:
			for r, v := range a.Float64Values()[:n] {
				w[r*s+c] = math.Float64bits(normalizeKeyFloat(v))
			}
		case *array.Boolean:
			for r := 0; r < n; r++ {
				w[r*s+c] = 0
				if a.Value(r) {
					w[r*s+c] = 1
				}
			}
		default: // NULL: every row is NULL
			for r := 0; r < n; r++ {
				w[r*s+c] = 0
			}
		}
		if col.NullN() > 0 {
			flag := uint64(1) << c
			for r := 0; r < n; r++ {
				if col.IsNull(r) {
					w[r*s+c] = 0
					w[r*s+nullw] |= flag
				}
			}
		}
	}
	seed := k.wseed
	for r := 0; r < n; r++ {
		k.hashes[r] = hashWords(seed, w[r*s:(r+1)*s])
	}
}

func (k *dedupKeys) encodeBytes(cols []arrow.Array, n int) {
	k.buf = k.buf[:0]
	if cap(k.offs) < n+1 {
		k.offs = make([]int, n+1)
	}
	k.offs = k.offs[:n+1]
	k.offs[0] = 0
	for r := 0; r < n; r++ {
		k.buf = AppendRowKey(k.buf, cols, r)
		k.offs[r+1] = len(k.buf)
	}
	for r := 0; r < n; r++ {
		k.hashes[r] = maphash.Bytes(k.seed, k.buf[k.offs[r]:k.offs[r+1]])
	}
}

// rowWords is row r's key in the words layout.
func (k *dedupKeys) rowWords(r int) []uint64 { return k.words[r*k.stride : (r+1)*k.stride] }

// rowBytes is row r's key in the bytes layout.
func (k *dedupKeys) rowBytes(r int) []byte { return k.buf[k.offs[r]:k.offs[r+1]] }

// normalizeKeyFloat maps -0.0 to 0.0 and every NaN to one NaN (the engine's float equality).
func normalizeKeyFloat(f float64) float64 {
	switch {
	case f == 0:
		return 0
	case f != f:
		return math.NaN()
	}
	return f
}

// hashWords mixes a key's words (a multiply-xorshift per word, then a 64-bit finalizer so the
// low bits the table indexes by depend on every input bit).
func hashWords(seed uint64, w []uint64) uint64 {
	h := seed
	for _, x := range w {
		h ^= x
		h *= 0x9e3779b97f4a7c15
		h = bits.RotateLeft64(h, 29)
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

func growUint64(s []uint64, n int) []uint64 {
	if cap(s) < n {
		return make([]uint64, n, n+n/4)
	}
	return s[:n]
}
