package exec

import (
	"encoding/binary"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// distinctAcc is count/sum/avg(DISTINCT x). Its state is the set of distinct (group id, value)
// pairs, serialized by a keyEncoder (4-byte group id, then the value) into a bytesTable. The
// results are computed from the set when built: the set's values are decoded into one column and
// fed to the plain accumulator of the same kind, whose result is cached until the set changes.
type distinctAcc struct {
	kind    AggKind
	arg, rt arrow.DataType
	enc     *keyEncoder
	set     *bytesTable
	groups  int

	inner     aggAcc  // plain accumulator over the set, nil when stale
	innerRows []int64 // set entries per group, the inner accumulator's row counts
	egids     []uint32
}

func newDistinctAcc(kind AggKind, arg, rt arrow.DataType) *distinctAcc {
	return &distinctAcc{kind: kind, arg: arg, rt: rt,
		enc: newKeyEncoder([]arrow.DataType{arg}, true), set: newBytesTable()}
}

func (a *distinctAcc) grow(n int) {
	a.groups = n
	if a.inner != nil {
		a.inner.grow(n)
		a.innerRows = aggGrow(a.innerRows, n)
	}
}

func (a *distinctAcc) update(col arrow.Array, ids []uint32) error {
	if col.NullN() >= col.Len() {
		return nil
	}
	a.enc.encode([]arrow.Array{col}, len(ids), ids)
	vb, off := aggValidity(col)
	for i := range ids {
		if vb != nil && !bitutil.BitIsSet(vb, off+i) {
			continue
		}
		b := a.enc.row(i)
		if _, inserted := a.set.getOrInsert(b, aggHashBytes(b)); inserted {
			a.inner = nil
		}
	}
	return nil
}

func (a *distinctAcc) build(mem memory.Allocator, gids []uint32, _ []int64) (arrow.Array, error) {
	if a.inner == nil {
		if err := a.recompute(); err != nil {
			return nil, err
		}
	}
	return a.inner.build(mem, gids, a.innerRows)
}

// recompute rebuilds the plain accumulator from the set.
func (a *distinctAcc) recompute() error {
	inner, err := newAggAcc(a.kind, false, a.arg, a.rt)
	if err != nil {
		return err
	}
	inner.grow(a.groups)
	rows := make([]int64, a.groups)
	b := array.NewBuilder(memory.DefaultAllocator, a.arg)
	defer b.Release()
	n := a.set.len()
	b.Reserve(n)
	a.egids = aggGrow(a.egids[:0], n)
	for e := 0; e < n; e++ {
		key := a.set.entry(uint32(e))
		g := binary.LittleEndian.Uint32(key)
		a.egids[e] = g
		rows[g]++
		aggDecodeValue(b, a.arg, key[4:])
	}
	vals := b.NewArray()
	defer vals.Release()
	if err := inner.update(vals, a.egids); err != nil {
		return err
	}
	a.inner, a.innerRows = inner, rows
	return nil
}

func (a *distinctAcc) bytes() int64 {
	n := a.set.bytes() + int64(cap(a.enc.buf)) + int64(cap(a.enc.offs)+cap(a.enc.pos))*8 + int64(cap(a.innerRows))*8
	if a.inner != nil {
		n += a.inner.bytes()
	}
	return n
}

// compact rebuilds the set without the entries of dropped groups, renumbering the others.
func (a *distinctAcc) compact(keep []uint32, remap []int32) {
	old := a.set
	a.set = newBytesTable()
	var buf []byte
	for e := 0; e < old.len(); e++ {
		key := old.entry(uint32(e))
		ng := remap[binary.LittleEndian.Uint32(key)]
		if ng < 0 {
			continue
		}
		buf = append(buf[:0], key...)
		binary.LittleEndian.PutUint32(buf, uint32(ng))
		a.set.getOrInsert(buf, aggHashBytes(buf))
	}
	a.groups = len(keep)
	a.inner, a.innerRows = nil, nil
}
