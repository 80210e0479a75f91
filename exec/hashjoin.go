package exec

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/watermark"
)

// JoinKind selects the join semantics. RIGHT joins are planned as LEFT joins with the inputs
// swapped; a CROSS join is an INNER join without keys.
type JoinKind int

const (
	JoinInner JoinKind = iota
	JoinLeft
)

func (k JoinKind) String() string {
	if k == JoinLeft {
		return "LEFT"
	}
	return "INNER"
}

// joinChunk bounds the rows of one emitted record so a many-to-many join does not materialize
// everything at once.
const joinChunk = 64 * 1024

// HashJoin joins a probe input (input 0, the left side) with a build input (input 1, the right
// side) on equality of key columns, then applies an optional residual condition.
//
// Call order: every record of input 1 must be pushed before the first record of input 0 (the
// Tree runs the build side first); Flush ends an epoch and forgets the build side, so each epoch
// pushes its build input again. Output rows are the left columns followed by the right columns.
// Keys with a NULL never match (SQL equality). For LEFT joins a probe row without any match that
// passes the residual is emitted once with NULLs on the right.
type HashJoin struct {
	kind                JoinKind
	left, right, schema *arrow.Schema
	leftKeys, rightKeys []int
	residual            Expr

	buildRecs []arrow.RecordBatch
	build     arrow.RecordBatch // all build rows, once the probe side starts
	heads     map[string]int32  // key -> first build row with that key
	next      []int32           // chain of build rows with the same key; -1 ends it
	keyBuf    []byte
}

// NewHashJoin returns a join of left and right. residual, if not nil, is evaluated over the joined
// schema (left fields then right fields) and must be BOOLEAN.
func NewHashJoin(kind JoinKind, left, right *arrow.Schema, leftKeys, rightKeys []int, residual Expr) (*HashJoin, error) {
	if len(leftKeys) != len(rightKeys) {
		return nil, fmt.Errorf("internal: join has %d left keys and %d right keys", len(leftKeys), len(rightKeys))
	}
	for i := range leftKeys {
		lt, rt := left.Field(leftKeys[i]).Type, right.Field(rightKeys[i]).Type
		if !arrow.TypeEqual(lt, rt) {
			return nil, fmt.Errorf("internal: join key types differ: %s and %s", TypeName(lt), TypeName(rt))
		}
	}
	fields := append(append([]arrow.Field{}, left.Fields()...), right.Fields()...)
	for i := range fields {
		fields[i].Nullable = true
	}
	return &HashJoin{kind: kind, left: left, right: right, schema: arrow.NewSchema(fields, nil),
		leftKeys: leftKeys, rightKeys: rightKeys, residual: residual}, nil
}

func (j *HashJoin) Schema() *arrow.Schema { return j.schema }

func (j *HashJoin) Push(ctx *Ctx, input int, d Delta, emit Emit) error {
	if input == 1 {
		if d.Weights != nil {
			return fmt.Errorf("internal: hash join received weighted rows on its build side")
		}
		if j.build != nil {
			return fmt.Errorf("internal: hash join build input pushed after probing started")
		}
		d.Rec.Retain()
		j.buildRecs = append(j.buildRecs, d.Rec)
		return nil
	}
	if err := j.finishBuild(ctx); err != nil {
		return err
	}
	return j.probe(ctx, d.Rec, d.Weights, emit)
}

func (j *HashJoin) finishBuild(ctx *Ctx) error {
	if j.build != nil {
		return nil
	}
	all, err := ConcatRecords(ctx, j.right, j.buildRecs)
	for _, r := range j.buildRecs {
		r.Release()
	}
	j.buildRecs = nil
	if err != nil {
		return err
	}
	j.build = all
	n := int(all.NumRows())
	j.heads = make(map[string]int32, n)
	j.next = make([]int32, n)
	keyCols := columnsOf(all, j.rightKeys)
	// Insert in reverse so each chain lists build rows in input order.
	for r := n - 1; r >= 0; r-- {
		key, ok := j.encodeKey(keyCols, r)
		if !ok {
			j.next[r] = -1
			continue
		}
		if h, found := j.heads[string(key)]; found {
			j.next[r] = h
		} else {
			j.next[r] = -1
		}
		j.heads[string(key)] = int32(r)
	}
	return nil
}

func columnsOf(rec arrow.RecordBatch, idx []int) []arrow.Array {
	out := make([]arrow.Array, len(idx))
	for i, c := range idx {
		out[i] = rec.Column(c)
	}
	return out
}

// encodeKey serializes row r of the key columns into j.keyBuf; ok is false when a key is NULL.
func (j *HashJoin) encodeKey(cols []arrow.Array, r int) ([]byte, bool) {
	buf := j.keyBuf[:0]
	for _, c := range cols {
		if c.IsNull(r) {
			return nil, false
		}
		buf = appendKeyValue(buf, c, r)
	}
	j.keyBuf = buf
	return buf, true
}

// appendKeyValue appends an unambiguous binary encoding of a non-NULL value. Values of one column
// have one type, so only strings need a length prefix.
func appendKeyValue(buf []byte, c arrow.Array, r int) []byte {
	switch a := c.(type) {
	case *array.Int64:
		return binary.LittleEndian.AppendUint64(buf, uint64(a.Value(r)))
	case *array.Float64:
		// -0.0 joins 0.0, and every NaN joins every NaN whatever its bits (PostgreSQL's float8
		// equality, and the rule the hash aggregate groups by); without the NaN case a NaN computed
		// as 0/0 (sign bit set) missed a NaN from math.NaN().
		f := a.Value(r)
		switch {
		case f == 0:
			f = 0
		case f != f:
			f = math.NaN()
		}
		return binary.LittleEndian.AppendUint64(buf, math.Float64bits(f))
	case *array.String:
		s := a.Value(r)
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		return append(buf, s...)
	case *array.Boolean:
		if a.Value(r) {
			return append(buf, 1)
		}
		return append(buf, 0)
	case *array.Timestamp:
		return binary.LittleEndian.AppendUint64(buf, uint64(a.Value(r)))
	case *array.Date32:
		return binary.LittleEndian.AppendUint32(buf, uint32(a.Value(r)))
	case *array.Duration:
		return binary.LittleEndian.AppendUint64(buf, uint64(a.Value(r)))
	case *array.Decimal128:
		v := a.Value(r)
		buf = binary.LittleEndian.AppendUint64(buf, v.LowBits())
		return binary.LittleEndian.AppendUint64(buf, uint64(v.HighBits()))
	}
	s := c.ValueStr(r)
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// probe joins rec with the build side. With weights (a stream-static join over a stream that
// retracts rows), every joined or NULL-padded row carries its probe row's weight: the join is
// linear in the probe side, so a retraction in is the retraction of the rows it joined.
func (j *HashJoin) probe(ctx *Ctx, rec arrow.RecordBatch, weights *array.Int64, emit Emit) error {
	n := int(rec.NumRows())
	keyCols := columnsOf(rec, j.leftKeys)
	var probeIdx, buildIdx []int64
	matched := make([]bool, n)
	flush := func() error {
		if len(probeIdx) == 0 {
			return nil
		}
		err := j.emitPairs(ctx, rec, weights, probeIdx, buildIdx, matched, emit)
		probeIdx, buildIdx = probeIdx[:0], buildIdx[:0]
		return err
	}
	for r := 0; r < n; r++ {
		key, ok := j.encodeKey(keyCols, r)
		if !ok {
			continue
		}
		h, found := j.heads[string(key)]
		if !found {
			continue
		}
		for b := h; b >= 0; b = j.next[b] {
			probeIdx = append(probeIdx, int64(r))
			buildIdx = append(buildIdx, int64(b))
			if len(probeIdx) >= joinChunk {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if j.kind != JoinLeft {
		return nil
	}
	for r := 0; r < n; r++ {
		if !matched[r] {
			probeIdx = append(probeIdx, int64(r))
			buildIdx = append(buildIdx, -1)
		}
	}
	if len(probeIdx) == 0 {
		return nil
	}
	out, err := j.joined(ctx, rec, probeIdx, buildIdx)
	if err != nil {
		return err
	}
	defer out.Release()
	w := gatherWeights(ctx, weights, probeIdx)
	if w != nil {
		defer w.Release()
	}
	return emit(Delta{Rec: out, Weights: w})
}

// gatherWeights returns the weights of rows idx (nil when weights is nil), owned by the caller.
func gatherWeights(ctx *Ctx, weights *array.Int64, idx []int64) *array.Int64 {
	if weights == nil {
		return nil
	}
	b := array.NewInt64Builder(ctx.Mem)
	defer b.Release()
	b.Reserve(len(idx))
	for _, i := range idx {
		b.UnsafeAppend(weights.Value(int(i)))
	}
	return b.NewInt64Array()
}

// emitPairs emits the candidate pairs that pass the residual and marks their probe rows matched.
func (j *HashJoin) emitPairs(ctx *Ctx, rec arrow.RecordBatch, weights *array.Int64, probeIdx, buildIdx []int64, matched []bool, emit Emit) error {
	out, err := j.joined(ctx, rec, probeIdx, buildIdx)
	if err != nil {
		return err
	}
	defer out.Release()
	w := gatherWeights(ctx, weights, probeIdx)
	if w != nil {
		defer w.Release()
	}
	if j.residual == nil {
		for _, p := range probeIdx {
			matched[p] = true
		}
		return emit(Delta{Rec: out, Weights: w})
	}
	mask, err := j.residual.Eval(ctx, out)
	if err != nil {
		return err
	}
	defer mask.Release()
	if b, ok := mask.(*array.Boolean); ok {
		for i, p := range probeIdx {
			if b.IsValid(i) && b.Value(i) {
				matched[p] = true
			}
		}
	}
	kept, err := FilterRecord(ctx, out, mask)
	if err != nil {
		return err
	}
	defer kept.Release()
	if kept.NumRows() == 0 {
		return nil
	}
	if w != nil && kept.NumRows() != out.NumRows() {
		fw := filterWeights(ctx, w, mask, int(kept.NumRows()))
		defer fw.Release()
		w = fw
	}
	return emit(Delta{Rec: kept, Weights: w})
}

// joined gathers probe rows and build rows (index -1: NULLs) side by side.
func (j *HashJoin) joined(ctx *Ctx, rec arrow.RecordBatch, probeIdx, buildIdx []int64) (arrow.RecordBatch, error) {
	pi := indexArray(ctx.Mem, probeIdx)
	defer pi.Release()
	bi := indexArray(ctx.Mem, buildIdx)
	defer bi.Release()
	l, err := TakeRecord(ctx, rec, j.left, pi)
	if err != nil {
		return nil, err
	}
	defer l.Release()
	r, err := TakeRecord(ctx, j.build, j.right, bi)
	if err != nil {
		return nil, err
	}
	defer r.Release()
	cols := append(append([]arrow.Array{}, l.Columns()...), r.Columns()...)
	return array.NewRecordBatch(j.schema, cols, int64(len(probeIdx))), nil
}

// indexArray builds an INT64 index array in which negative entries are NULL.
func indexArray(mem memory.Allocator, idx []int64) arrow.Array {
	b := array.NewInt64Builder(mem)
	defer b.Release()
	b.Reserve(len(idx))
	for _, v := range idx {
		if v < 0 {
			b.UnsafeAppendBoolToBitmap(false)
		} else {
			b.UnsafeAppend(v)
		}
	}
	return b.NewArray()
}

// Flush ends the epoch: the build side is released, so the next epoch (a streaming query joining
// a stream with a table) builds again from that epoch's build input; a table changed between
// epochs is seen as it is then, as in Spark's stream-static joins.
func (j *HashJoin) Flush(ctx *Ctx, _ watermark.Time, _ Emit) error {
	if err := j.finishBuild(ctx); err != nil {
		return err
	}
	return j.Close()
}

func (j *HashJoin) Close() error {
	for _, r := range j.buildRecs {
		r.Release()
	}
	j.buildRecs = nil
	if j.build != nil {
		j.build.Release()
		j.build = nil
	}
	j.heads, j.next = nil, nil
	return nil
}
