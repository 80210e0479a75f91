package exec

import (
	"fmt"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// rowStore keeps individual rows of pushed records for the retraction-aware streaming operators
// (SymmetricHashJoin, StreamDistinct, TopN) without copying them: a stored row is a reference to a
// row of a retained input record (a chunk). Each chunk counts the references to its rows; when the
// count falls to zero the record is released. A chunk of which only a few rows are still referenced
// keeps its whole record alive, so the owner calls compact between epochs (wasteful reports when):
// it copies the referenced rows into fresh records and rewrites every reference.
//
// Ownership: add Retains the record once per chunk (the first time one of its rows is stored);
// the store Releases it when its last reference is dropped, in compact, or in release.
type rowStore struct {
	schema *arrow.Schema
	chunks []storeChunk
	views  []*recView // views[i] is chunk i's record, nil for a free slot
	free   []int32    // chunk slots whose record is released, for reuse
	last   arrow.RecordBatch
	lastID int32
	rows   int64 // rows of all retained records
	refs   int64 // live references
}

type storeChunk struct {
	rec  arrow.RecordBatch // nil for a free slot
	refs int64
}

// rowRef names one stored row: its chunk and its row in the chunk's record.
type rowRef struct {
	chunk int32
	row   int32
}

func newRowStore(schema *arrow.Schema) *rowStore { return &rowStore{schema: schema, lastID: -1} }

// add stores row r of rec (borrowed) and returns its reference.
func (s *rowStore) add(rec arrow.RecordBatch, r int) rowRef {
	if s.last != rec || s.lastID < 0 || s.chunks[s.lastID].rec != rec {
		rec.Retain()
		var id int32
		if n := len(s.free); n > 0 {
			id = s.free[n-1]
			s.free = s.free[:n-1]
			s.chunks[id] = storeChunk{rec: rec}
			s.views[id] = newRecView(rec)
		} else {
			id = int32(len(s.chunks))
			s.chunks = append(s.chunks, storeChunk{rec: rec})
			s.views = append(s.views, newRecView(rec))
		}
		s.last, s.lastID = rec, id
		s.rows += rec.NumRows()
	}
	s.chunks[s.lastID].refs++
	s.refs++
	return rowRef{chunk: s.lastID, row: int32(r)}
}

// addRef adds one more reference to an already stored row.
func (s *rowStore) addRef(ref rowRef) rowRef {
	s.chunks[ref.chunk].refs++
	s.refs++
	return ref
}

// drop removes one reference; the chunk's record is released with its last reference.
func (s *rowStore) drop(ref rowRef) {
	c := &s.chunks[ref.chunk]
	c.refs--
	s.refs--
	if c.refs == 0 {
		s.rows -= c.rec.NumRows()
		c.rec.Release()
		c.rec = nil
		s.views[ref.chunk] = nil
		s.free = append(s.free, ref.chunk)
		if s.lastID == ref.chunk {
			s.last, s.lastID = nil, -1
		}
	}
}

// col returns column c of the record holding ref, and the row within it.
func (s *rowStore) col(ref rowRef, c int) (arrow.Array, int) {
	return s.chunks[ref.chunk].rec.Column(c), int(ref.row)
}

// wasteful reports whether the retained records hold many more rows than are referenced.
func (s *rowStore) wasteful() bool { return s.rows > 2*s.refs+4096 }

// compact copies every row reachable through visit into new records (storeChunkRows rows each)
// and rewrites the references. visit must call fn once for every live reference the owner holds
// (a row referenced twice is copied once). It is called twice.
func (s *rowStore) compact(mem memory.Allocator, visit func(fn func(*rowRef))) {
	seen := make(map[rowRef]rowRef)
	var order []rowRef
	visit(func(r *rowRef) {
		if _, ok := seen[*r]; !ok {
			seen[*r] = rowRef{}
			order = append(order, *r)
		}
	})
	var chunks []storeChunk
	var views []*recView
	var rows int64
	for lo := 0; lo < len(order); lo += storeChunkRows {
		hi := min(len(order), lo+storeChunkRows)
		cols := gatherColumns(mem, s.schema, s.recs(), order[lo:hi])
		rec := array.NewRecordBatch(s.schema, cols, int64(hi-lo))
		releaseArrays(cols)
		id := int32(len(chunks))
		for k, old := range order[lo:hi] {
			seen[old] = rowRef{chunk: id, row: int32(k)}
		}
		chunks = append(chunks, storeChunk{rec: rec})
		views = append(views, newRecView(rec))
		rows += int64(hi - lo)
	}
	var refs int64
	visit(func(r *rowRef) {
		*r = seen[*r]
		chunks[r.chunk].refs++
		refs++
	})
	s.release()
	s.chunks, s.views, s.rows, s.refs = chunks, views, rows, refs
}

// storeChunkRows bounds the records compact and snapshot restores build.
const storeChunkRows = 64 * 1024

// recs returns the chunk records' views by chunk id (nil for free slots), for gatherColumns. The
// slice is the store's own: valid until the next add, drop or compact.
func (s *rowStore) recs() []*recView { return s.views }

// release drops every record.
func (s *rowStore) release() {
	for _, c := range s.chunks {
		if c.rec != nil {
			c.rec.Release()
		}
	}
	s.chunks, s.views, s.free, s.last, s.lastID, s.rows, s.refs = nil, nil, nil, nil, -1, 0, 0
}

func releaseArrays(cols []arrow.Array) {
	for _, c := range cols {
		if c != nil {
			c.Release()
		}
	}
}

// recView is a record prepared for gathering single rows: per column its array and, for 8-byte
// fixed-width types, the values and validity bitmap, so gathering a row costs no interface call.
type recView struct {
	rec  arrow.RecordBatch
	cols []colView
}

type colView struct {
	arr   arrow.Array
	w8    []int64 // values of an 8-byte fixed-width column (viewed as int64), else nil
	valid []byte  // validity bitmap, nil without NULLs
	off   int     // the array's offset into valid
}

func newRecView(rec arrow.RecordBatch) *recView {
	v := &recView{rec: rec, cols: make([]colView, rec.NumCols())}
	for c, a := range rec.Columns() {
		cv := colView{arr: a, off: a.Data().Offset()}
		if a.NullN() > 0 {
			cv.valid = a.NullBitmapBytes()
		}
		switch a.DataType().ID() {
		case arrow.INT64, arrow.FLOAT64, arrow.TIMESTAMP, arrow.DURATION:
			cv.w8 = fixedValues[int64](a)
		}
		v.cols[c] = cv
	}
	return v
}

// views wraps records in recViews.
func viewsOf(recs ...arrow.RecordBatch) []*recView {
	out := make([]*recView, len(recs))
	for i, r := range recs {
		out[i] = newRecView(r)
	}
	return out
}

// gatherColumns builds the columns of schema (the schema of srcs) from the rows refs of srcs
// (refs[k].chunk indexes srcs); a ref with chunk < 0 gives a NULL row. The caller owns the arrays.
func gatherColumns(mem memory.Allocator, schema *arrow.Schema, srcs []*recView, refs []rowRef) []arrow.Array {
	out := make([]arrow.Array, 0, schema.NumFields())
	for c := 0; c < schema.NumFields(); c++ {
		out = append(out, gatherColumn(mem, schema.Field(c).Type, srcs, refs, c))
	}
	return out
}

// gatherColumn builds one column of type t from column c of the referenced rows: 8-byte
// fixed-width types by copying values into a fresh buffer, strings through a builder, other types
// through appendFrom.
func gatherColumn(mem memory.Allocator, t arrow.DataType, srcs []*recView, refs []rowRef, c int) arrow.Array {
	switch t.ID() {
	case arrow.INT64, arrow.FLOAT64, arrow.TIMESTAMP, arrow.DURATION:
		return gatherFixed8(mem, t, srcs, refs, c)
	}
	b := array.NewBuilder(mem, t)
	defer b.Release()
	b.Reserve(len(refs))
	if sb, ok := b.(*array.StringBuilder); ok {
		// The values' bytes are reserved in one allocation: appending them one by one regrows
		// (and copies) the data buffer log(n) times, most of a wide join's output cost.
		var size int
		for _, r := range refs {
			if r.chunk >= 0 {
				v := &srcs[r.chunk].cols[c]
				if v.valid == nil || bitutil.BitIsSet(v.valid, v.off+int(r.row)) {
					size += v.arr.(*array.String).ValueLen(int(r.row))
				}
			}
		}
		sb.ReserveData(size)
		for _, r := range refs {
			if r.chunk < 0 {
				sb.AppendNull()
				continue
			}
			v := &srcs[r.chunk].cols[c]
			if v.valid != nil && !bitutil.BitIsSet(v.valid, v.off+int(r.row)) {
				sb.AppendNull()
			} else {
				sb.Append(v.arr.(*array.String).Value(int(r.row)))
			}
		}
		return b.NewArray()
	}
	for _, r := range refs {
		if r.chunk < 0 {
			b.AppendNull()
			continue
		}
		appendFrom(b, srcs[r.chunk].cols[c].arr, int(r.row))
	}
	return b.NewArray()
}

func gatherFixed8(mem memory.Allocator, t arrow.DataType, srcs []*recView, refs []rowRef, c int) arrow.Array {
	n := len(refs)
	buf, out := allocFixed[int64](mem, n)
	var vbuf *memory.Buffer
	var vb []byte
	nulls := 0
	setNull := func(k int) {
		if vbuf == nil {
			vbuf = memory.NewResizableBuffer(mem)
			vbuf.Resize(int(bitutil.BytesForBits(int64(n))))
			vb = vbuf.Bytes()
			for i := range vb {
				vb[i] = 0xff
			}
		}
		bitutil.ClearBit(vb, k)
		out[k] = 0
		nulls++
	}
	for k, r := range refs {
		if r.chunk < 0 {
			setNull(k)
			continue
		}
		v := &srcs[r.chunk].cols[c]
		i := int(r.row)
		if v.valid != nil && !bitutil.BitIsSet(v.valid, v.off+i) {
			setNull(k)
			continue
		}
		out[k] = v.w8[i]
	}
	return newFixedArray(t, n, vbuf, buf, nulls)
}

// deltaWeights validates the weights of a pushed delta: nil (all +1) or one non-NULL BIGINT per
// row. It returns a function giving row r's weight.
func deltaWeights(op string, d Delta) (func(r int) int64, error) {
	if d.Weights == nil {
		return func(int) int64 { return 1 }, nil
	}
	if int64(d.Weights.Len()) != d.Rec.NumRows() {
		return nil, fmt.Errorf("internal: %s received %d weights for %d rows", op, d.Weights.Len(), d.Rec.NumRows())
	}
	if d.Weights.NullN() > 0 {
		return nil, fmt.Errorf("internal: %s received a NULL weight", op)
	}
	w := d.Weights.Int64Values()
	return func(r int) int64 { return w[r] }, nil
}

// addWeight adds two weights, failing on int64 overflow instead of wrapping.
func addWeight(a, b int64) (int64, error) {
	s := a + b
	if (a >= 0) == (b >= 0) && (s >= 0) != (a >= 0) {
		return 0, fmt.Errorf("row weight overflows BIGINT (%d + %d)", a, b)
	}
	return s, nil
}

// mulWeight multiplies two weights, failing on int64 overflow instead of wrapping.
func mulWeight(a, b int64) (int64, error) {
	if a == 1 {
		return b, nil
	}
	if b == 1 {
		return a, nil
	}
	neg := (a < 0) != (b < 0)
	ua, ub := uint64(a), uint64(b)
	if a < 0 {
		ua = uint64(-a)
	}
	if b < 0 {
		ub = uint64(-b)
	}
	hi, lo := bits.Mul64(ua, ub)
	if hi != 0 || lo > 1<<63 || (lo == 1<<63 && !neg) {
		return 0, fmt.Errorf("row weight overflows BIGINT (%d * %d)", a, b)
	}
	if neg {
		return -int64(lo), nil
	}
	return int64(lo), nil
}

// weightedDelta builds rec's delta with weights w (nil when every weight is +1). The caller owns
// both arrays (release with releaseDelta).
func weightedDelta(mem memory.Allocator, rec arrow.RecordBatch, w []int64) Delta {
	allOne := true
	for _, x := range w {
		if x != 1 {
			allOne = false
			break
		}
	}
	if allOne {
		return Delta{Rec: rec}
	}
	buf, vals := allocFixed[int64](mem, len(w))
	copy(vals, w)
	return Delta{Rec: rec, Weights: newFixedArray(Int64, len(w), nil, buf, 0).(*array.Int64)}
}

func releaseDelta(d Delta) {
	d.Rec.Release()
	if d.Weights != nil {
		d.Weights.Release()
	}
}

// emitStored gathers the stored rows refs (of srcs, with schema) into one record with weights w
// and hands it to emit; the record is released when emit returns.
func emitStored(ctx *Ctx, schema *arrow.Schema, srcs []*recView, refs []rowRef, w []int64, emit Emit) error {
	cols := gatherColumns(ctx.Mem, schema, srcs, refs)
	rec := array.NewRecordBatch(schema, cols, int64(len(refs)))
	releaseArrays(cols)
	d := weightedDelta(ctx.Mem, rec, w)
	err := emit(d)
	releaseDelta(d)
	return err
}

// The retraction-aware streaming operators are checkpointable.
var (
	_ Snapshotter = (*SymmetricHashJoin)(nil)
	_ Snapshotter = (*StreamDistinct)(nil)
	_ Snapshotter = (*TopN)(nil)
	_ Operator    = (*SymmetricHashJoin)(nil)
	_ Operator    = (*StreamDistinct)(nil)
	_ Operator    = (*TopN)(nil)
)
