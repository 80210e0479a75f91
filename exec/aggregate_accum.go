package exec

import (
	"fmt"
	"math"
	"math/big"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Accumulators: the per-aggregate state of HashAggregate, arrays indexed by group id.
//
// A group's aggregate is NULL exactly when the group has no non-NULL argument value, i.e. when
// rows[g] (the operator's input-row count) equals nulls[g] (the accumulator's NULL count). So
// a column without NULLs costs no bookkeeping beyond the value itself, and the value arrays start
// at the identity of their operation (0, +MAX for min, ...) instead of carrying a "seen" flag.

type aggAcc interface {
	// grow extends the arrays to n groups; new groups are empty.
	grow(n int)
	// update folds row i of col into group ids[i] for every row; col has len(ids) rows (nil for
	// count(*)). It is called once per pushed batch: its loops are the hot path.
	update(col arrow.Array, ids []uint32) error
	// build returns the results of groups gids (an array owned by the caller, allocated from mem);
	// rows[g] is the number of input rows of group g.
	build(mem memory.Allocator, gids []uint32, rows []int64) (arrow.Array, error)
	// bytes is the memory the accumulator holds.
	bytes() int64
	// compact keeps groups keep (ascending old ids) as groups 0..len(keep)-1 and drops the rest;
	// remap[old] is the new id of an old group or -1 (see HashAggregate's eviction).
	compact(keep []uint32, remap []int32)
}

// newAggAcc returns the accumulator of kind over an argument of type arg (nil for count(*)) with
// result type rt (from AggResultType).
func newAggAcc(kind AggKind, distinct bool, arg, rt arrow.DataType) (aggAcc, error) {
	if kind == AggMin || kind == AggMax || kind == AggCountStar {
		distinct = false // the same result with or without DISTINCT
	}
	if distinct && arg.ID() != arrow.NULL {
		return newDistinctAcc(kind, arg, rt), nil
	}
	if kind == AggCountStar {
		return &countAcc{star: true}, nil
	}
	if kind == AggCount {
		return &countAcc{}, nil
	}
	if arg.ID() == arrow.NULL {
		return &nullResultAcc{typ: rt}, nil
	}
	isMax := kind == AggMax
	switch kind {
	case AggSum, AggAvg:
		avg := kind == AggAvg
		switch arg.ID() {
		case arrow.INT64:
			return &sumIntAcc{avg: avg}, nil
		case arrow.FLOAT64:
			return &sumFloatAcc{avg: avg}, nil
		case arrow.DECIMAL128:
			return &sumDecAcc{avg: avg, argType: arg, scale: arg.(*arrow.Decimal128Type).Scale, rt: rt}, nil
		}
	case AggMin, AggMax:
		switch arg.ID() {
		case arrow.INT64, arrow.TIMESTAMP, arrow.DURATION:
			ident := int64(math.MaxInt64)
			if isMax {
				ident = math.MinInt64
			}
			return &minMaxIntAcc[int64]{isMax: isMax, typ: arg, ident: ident}, nil
		case arrow.DATE32:
			ident := int32(math.MaxInt32)
			if isMax {
				ident = math.MinInt32
			}
			return &minMaxIntAcc[int32]{isMax: isMax, typ: arg, ident: ident}, nil
		case arrow.FLOAT64:
			return &minMaxFloatAcc{isMax: isMax}, nil
		case arrow.BOOL:
			return &minMaxBoolAcc{isMax: isMax}, nil
		case arrow.DECIMAL128:
			return &minMaxDecAcc{isMax: isMax, typ: arg}, nil
		case arrow.STRING:
			return &minMaxStringAcc{isMax: isMax}, nil
		}
	}
	return nil, fmt.Errorf("function %s does not accept (%s)", AggName(kind), TypeName(arg))
}

// aggNulls counts the NULL argument values per group.
type aggNulls struct{ nulls []int64 }

func (a *aggNulls) growNulls(n int) { a.nulls = aggGrow(a.nulls, n) }

// countNulls adds the NULL rows of col to their groups and reports whether col has any non-NULL row.
func (a *aggNulls) countNulls(col arrow.Array, ids []uint32) bool {
	nulls := a.nulls
	switch nn := col.NullN(); {
	case nn == 0:
		return true
	case nn >= len(ids):
		for _, g := range ids {
			nulls[g]++
		}
		return false
	}
	vb, off := aggValidity(col)
	for i, g := range ids {
		if !bitutil.BitIsSet(vb, off+i) {
			nulls[g]++
		}
	}
	return true
}

// validFunc reports per emitted row k whether group gids[k] has a non-NULL value.
func (a *aggNulls) validFunc(gids []uint32, rows []int64) func(k int) bool {
	return func(k int) bool { g := gids[k]; return rows[g] > a.nulls[g] }
}

// countAcc is count(*) (which is rows[g]) and count(x) (rows[g] - nulls[g]).
type countAcc struct {
	aggNulls
	star bool
}

func (a *countAcc) grow(n int) {
	if !a.star {
		a.growNulls(n)
	}
}

func (a *countAcc) update(col arrow.Array, ids []uint32) error {
	if !a.star {
		a.countNulls(col, ids)
	}
	return nil
}

func (a *countAcc) build(mem memory.Allocator, gids []uint32, rows []int64) (arrow.Array, error) {
	all := func(int) bool { return true }
	if a.star {
		return aggFixedArray(mem, Int64, len(gids), all, func(k int) int64 { return rows[gids[k]] }), nil
	}
	return aggFixedArray(mem, Int64, len(gids), all, func(k int) int64 { g := gids[k]; return rows[g] - a.nulls[g] }), nil
}

func (a *countAcc) bytes() int64 { return int64(cap(a.nulls)) * 8 }

func (a *countAcc) compact(keep []uint32, _ []int32) {
	if !a.star {
		a.nulls = aggCompact(a.nulls, keep)
	}
}

// aggI128 is a signed 128-bit integer: exact BIGINT sums (that cannot overflow for 2^63 rows) and
// DECIMAL sums.
type aggI128 struct {
	lo uint64
	hi int64
}

func (x aggI128) fitsInt64() bool { return x.hi == int64(x.lo)>>63 }

func (x aggI128) bigInt() *big.Int { return decimal128.New(x.hi, x.lo).BigInt() }

// divFloat is x / (den * 10^scale), correctly rounded.
func (x aggI128) divFloat(den int64, scale int32) float64 {
	if scale == 0 && x.fitsInt64() {
		if v := int64(x.lo); v > -(1<<53) && v < 1<<53 && den < 1<<53 {
			return float64(v) / float64(den)
		}
	}
	d := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)
	d.Mul(d, big.NewInt(den))
	f, _ := new(big.Rat).SetFrac(x.bigInt(), d).Float64()
	return f
}

// sumIntAcc is sum and avg over BIGINT, accumulated exactly in 128 bits; sum reports overflow of
// the BIGINT result when it is built.
type sumIntAcc struct {
	aggNulls
	acc []aggI128
	avg bool
}

func (a *sumIntAcc) grow(n int) { a.growNulls(n); a.acc = aggGrow(a.acc, n) }

func (a *sumIntAcc) update(col arrow.Array, ids []uint32) error {
	if !a.countNulls(col, ids) {
		return nil
	}
	vals := fixedValues[int64](col)[:len(ids)]
	acc := a.acc
	vb, off := aggValidity(col)
	if vb == nil {
		for i, g := range ids {
			v := vals[i]
			p := &acc[g]
			lo, c := bits.Add64(p.lo, uint64(v), 0)
			p.lo = lo
			p.hi += v>>63 + int64(c)
		}
		return nil
	}
	for i, g := range ids {
		if bitutil.BitIsSet(vb, off+i) {
			v := vals[i]
			p := &acc[g]
			lo, c := bits.Add64(p.lo, uint64(v), 0)
			p.lo = lo
			p.hi += v>>63 + int64(c)
		}
	}
	return nil
}

func (a *sumIntAcc) build(mem memory.Allocator, gids []uint32, rows []int64) (arrow.Array, error) {
	valid := a.validFunc(gids, rows)
	if a.avg {
		return aggFixedArray(mem, Float64, len(gids), valid, func(k int) float64 {
			g := gids[k]
			if n := rows[g] - a.nulls[g]; n > 0 {
				return a.acc[g].divFloat(n, 0)
			}
			return 0
		}), nil
	}
	for _, g := range gids {
		if !a.acc[g].fitsInt64() {
			return nil, fmt.Errorf("bigint out of range in sum: %s", a.acc[g].bigInt())
		}
	}
	return aggFixedArray(mem, Int64, len(gids), valid, func(k int) int64 { return int64(a.acc[gids[k]].lo) }), nil
}

func (a *sumIntAcc) bytes() int64 { return int64(cap(a.nulls))*8 + int64(cap(a.acc))*16 }

func (a *sumIntAcc) compact(keep []uint32, _ []int32) {
	a.nulls, a.acc = aggCompact(a.nulls, keep), aggCompact(a.acc, keep)
}

// sumFloatAcc is sum and avg over DOUBLE.
type sumFloatAcc struct {
	aggNulls
	acc []float64
	avg bool
}

func (a *sumFloatAcc) grow(n int) { a.growNulls(n); a.acc = aggGrow(a.acc, n) }

func (a *sumFloatAcc) update(col arrow.Array, ids []uint32) error {
	if !a.countNulls(col, ids) {
		return nil
	}
	vals := fixedValues[float64](col)[:len(ids)]
	acc := a.acc
	vb, off := aggValidity(col)
	if vb == nil {
		for i, g := range ids {
			acc[g] += vals[i]
		}
		return nil
	}
	for i, g := range ids {
		if bitutil.BitIsSet(vb, off+i) {
			acc[g] += vals[i]
		}
	}
	return nil
}

func (a *sumFloatAcc) build(mem memory.Allocator, gids []uint32, rows []int64) (arrow.Array, error) {
	valid := a.validFunc(gids, rows)
	if a.avg {
		return aggFixedArray(mem, Float64, len(gids), valid, func(k int) float64 {
			g := gids[k]
			if n := rows[g] - a.nulls[g]; n > 0 {
				return a.acc[g] / float64(n)
			}
			return 0
		}), nil
	}
	return aggFixedArray(mem, Float64, len(gids), valid, func(k int) float64 { return a.acc[gids[k]] }), nil
}

func (a *sumFloatAcc) bytes() int64 { return int64(cap(a.nulls))*8 + int64(cap(a.acc))*8 }

func (a *sumFloatAcc) compact(keep []uint32, _ []int32) {
	a.nulls, a.acc = aggCompact(a.nulls, keep), aggCompact(a.acc, keep)
}

// sumDecAcc is sum (DECIMAL(38,s)) and avg (DOUBLE) over DECIMAL(p,s), accumulated in 128 bits.
// A sum leaving the 128-bit range is an error at once; one leaving 38 digits when it is built.
type sumDecAcc struct {
	aggNulls
	acc     []aggI128
	avg     bool
	argType arrow.DataType
	rt      arrow.DataType
	scale   int32
}

func (a *sumDecAcc) grow(n int) { a.growNulls(n); a.acc = aggGrow(a.acc, n) }

func (a *sumDecAcc) update(col arrow.Array, ids []uint32) error {
	if !a.countNulls(col, ids) {
		return nil
	}
	vals := col.(*array.Decimal128).Values()[:len(ids)]
	acc := a.acc
	vb, off := aggValidity(col)
	for i, g := range ids {
		if vb != nil && !bitutil.BitIsSet(vb, off+i) {
			continue
		}
		v := vals[i]
		p := &acc[g]
		vhi := v.HighBits()
		lo, c := bits.Add64(p.lo, v.LowBits(), 0)
		hi := p.hi + vhi + int64(c)
		if (p.hi^hi)&(vhi^hi) < 0 {
			return fmt.Errorf("numeric field overflow in sum(%s)", TypeName(a.argType))
		}
		p.lo, p.hi = lo, hi
	}
	return nil
}

func (a *sumDecAcc) build(mem memory.Allocator, gids []uint32, rows []int64) (arrow.Array, error) {
	valid := a.validFunc(gids, rows)
	n := len(gids)
	if a.avg {
		return aggFixedArray(mem, Float64, n, valid, func(k int) float64 {
			g := gids[k]
			if c := rows[g] - a.nulls[g]; c > 0 {
				return a.acc[g].divFloat(c, a.scale)
			}
			return 0
		}), nil
	}
	out := make([]decimal128.Num, n)
	for k, g := range gids {
		x := a.acc[g]
		out[k] = decimal128.New(x.hi, x.lo)
		if !out[k].FitsInPrecision(38) {
			return nil, fmt.Errorf("numeric field overflow in sum(%s): %s does not fit %s",
				TypeName(a.argType), out[k].ToString(a.scale), TypeName(a.rt))
		}
	}
	return aggDecimalArray(mem, a.rt, out, valid), nil
}

func (a *sumDecAcc) bytes() int64 { return int64(cap(a.nulls))*8 + int64(cap(a.acc))*16 }

func (a *sumDecAcc) compact(keep []uint32, _ []int32) {
	a.nulls, a.acc = aggCompact(a.nulls, keep), aggCompact(a.acc, keep)
}

// aggDecimalArray builds a DECIMAL array of type t from vals, NULL where valid(k) is false.
func aggDecimalArray(mem memory.Allocator, t arrow.DataType, vals []decimal128.Num, valid func(k int) bool) arrow.Array {
	n := len(vals)
	validity, nulls := aggBitmap(mem, n, valid)
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(n * 16)
	copy(arrow.GetData[decimal128.Num](buf.Bytes()), vals)
	return newFixedArray(t, n, validity, buf, nulls)
}

// minMaxIntAcc is min/max over BIGINT, TIMESTAMP, INTERVAL (int64) and DATE (int32). Values start
// at the identity of the operation, so a group's value is right as soon as it is not NULL.
type minMaxIntAcc[T int64 | int32] struct {
	aggNulls
	vals  []T
	isMax bool
	typ   arrow.DataType
	ident T
}

func (a *minMaxIntAcc[T]) grow(n int) {
	a.growNulls(n)
	old := len(a.vals)
	a.vals = aggGrow(a.vals, n)
	for i := old; i < n; i++ {
		a.vals[i] = a.ident
	}
}

func (a *minMaxIntAcc[T]) update(col arrow.Array, ids []uint32) error {
	if !a.countNulls(col, ids) {
		return nil
	}
	x := fixedValues[T](col)[:len(ids)]
	m := a.vals
	vb, off := aggValidity(col)
	switch {
	case vb == nil && a.isMax:
		for i, g := range ids {
			m[g] = max(m[g], x[i])
		}
	case vb == nil:
		for i, g := range ids {
			m[g] = min(m[g], x[i])
		}
	case a.isMax:
		for i, g := range ids {
			if bitutil.BitIsSet(vb, off+i) {
				m[g] = max(m[g], x[i])
			}
		}
	default:
		for i, g := range ids {
			if bitutil.BitIsSet(vb, off+i) {
				m[g] = min(m[g], x[i])
			}
		}
	}
	return nil
}

func (a *minMaxIntAcc[T]) build(mem memory.Allocator, gids []uint32, rows []int64) (arrow.Array, error) {
	return aggFixedArray(mem, a.typ, len(gids), a.validFunc(gids, rows), func(k int) T { return a.vals[gids[k]] }), nil
}

func (a *minMaxIntAcc[T]) bytes() int64 { return int64(cap(a.nulls))*8 + int64(cap(a.vals))*8 }

func (a *minMaxIntAcc[T]) compact(keep []uint32, _ []int32) {
	a.nulls, a.vals = aggCompact(a.nulls, keep), aggCompact(a.vals, keep)
}

// minMaxFloatAcc is min/max over DOUBLE with PostgreSQL's order: NaN is greater than every other
// value. min starts at NaN (the greatest), max at -Inf.
type minMaxFloatAcc struct {
	aggNulls
	vals  []float64
	isMax bool
}

func (a *minMaxFloatAcc) grow(n int) {
	a.growNulls(n)
	old := len(a.vals)
	a.vals = aggGrow(a.vals, n)
	ident := math.NaN()
	if a.isMax {
		ident = math.Inf(-1)
	}
	for i := old; i < n; i++ {
		a.vals[i] = ident
	}
}

func (a *minMaxFloatAcc) update(col arrow.Array, ids []uint32) error {
	if !a.countNulls(col, ids) {
		return nil
	}
	x := fixedValues[float64](col)[:len(ids)]
	m := a.vals
	vb, off := aggValidity(col)
	for i, g := range ids {
		if vb != nil && !bitutil.BitIsSet(vb, off+i) {
			continue
		}
		v, cur := x[i], m[g]
		if a.isMax {
			if v > cur || v != v {
				m[g] = v
			}
		} else if v < cur || (cur != cur && v == v) {
			m[g] = v
		}
	}
	return nil
}

func (a *minMaxFloatAcc) build(mem memory.Allocator, gids []uint32, rows []int64) (arrow.Array, error) {
	return aggFixedArray(mem, Float64, len(gids), a.validFunc(gids, rows), func(k int) float64 { return a.vals[gids[k]] }), nil
}

func (a *minMaxFloatAcc) bytes() int64 { return int64(cap(a.nulls))*8 + int64(cap(a.vals))*8 }

func (a *minMaxFloatAcc) compact(keep []uint32, _ []int32) {
	a.nulls, a.vals = aggCompact(a.nulls, keep), aggCompact(a.vals, keep)
}

// minMaxBoolAcc is min (logical AND) and max (logical OR) over BOOLEAN.
type minMaxBoolAcc struct {
	aggNulls
	vals  []bool
	isMax bool
}

func (a *minMaxBoolAcc) grow(n int) {
	a.growNulls(n)
	old := len(a.vals)
	a.vals = aggGrow(a.vals, n)
	for i := old; i < n; i++ {
		a.vals[i] = !a.isMax
	}
}

func (a *minMaxBoolAcc) update(col arrow.Array, ids []uint32) error {
	if !a.countNulls(col, ids) {
		return nil
	}
	b := col.(*array.Boolean)
	vb, off := aggValidity(col)
	for i, g := range ids {
		if vb != nil && !bitutil.BitIsSet(vb, off+i) {
			continue
		}
		if a.isMax {
			a.vals[g] = a.vals[g] || b.Value(i)
		} else {
			a.vals[g] = a.vals[g] && b.Value(i)
		}
	}
	return nil
}

func (a *minMaxBoolAcc) build(mem memory.Allocator, gids []uint32, rows []int64) (arrow.Array, error) {
	return aggBoolArray(mem, len(gids), a.validFunc(gids, rows), func(k int) bool { return a.vals[gids[k]] }), nil
}

func (a *minMaxBoolAcc) bytes() int64 { return int64(cap(a.nulls))*8 + int64(cap(a.vals)) }

func (a *minMaxBoolAcc) compact(keep []uint32, _ []int32) {
	a.nulls, a.vals = aggCompact(a.nulls, keep), aggCompact(a.vals, keep)
}

// minMaxDecAcc is min/max over DECIMAL; values start at the extreme 128-bit integers.
type minMaxDecAcc struct {
	aggNulls
	vals  []decimal128.Num
	isMax bool
	typ   arrow.DataType
}

func (a *minMaxDecAcc) grow(n int) {
	a.growNulls(n)
	old := len(a.vals)
	a.vals = aggGrow(a.vals, n)
	ident := decimal128.New(math.MaxInt64, math.MaxUint64)
	if a.isMax {
		ident = decimal128.New(math.MinInt64, 0)
	}
	for i := old; i < n; i++ {
		a.vals[i] = ident
	}
}

func (a *minMaxDecAcc) update(col arrow.Array, ids []uint32) error {
	if !a.countNulls(col, ids) {
		return nil
	}
	x := col.(*array.Decimal128).Values()[:len(ids)]
	vb, off := aggValidity(col)
	for i, g := range ids {
		if vb != nil && !bitutil.BitIsSet(vb, off+i) {
			continue
		}
		if c := x[i].Cmp(a.vals[g]); (a.isMax && c > 0) || (!a.isMax && c < 0) {
			a.vals[g] = x[i]
		}
	}
	return nil
}

func (a *minMaxDecAcc) build(mem memory.Allocator, gids []uint32, rows []int64) (arrow.Array, error) {
	out := make([]decimal128.Num, len(gids))
	for k, g := range gids {
		out[k] = a.vals[g]
	}
	return aggDecimalArray(mem, a.typ, out, a.validFunc(gids, rows)), nil
}

func (a *minMaxDecAcc) bytes() int64 { return int64(cap(a.nulls))*8 + int64(cap(a.vals))*16 }

func (a *minMaxDecAcc) compact(keep []uint32, _ []int32) {
	a.nulls, a.vals = aggCompact(a.nulls, keep), aggCompact(a.vals, keep)
}

// minMaxStringAcc is min/max over VARCHAR in byte order. Values are compared straight from the
// Arrow buffers; a string is copied only when it becomes a group's new extreme.
type minMaxStringAcc struct {
	aggNulls
	vals     []string
	set      []bool
	isMax    bool
	strBytes int64
}

func (a *minMaxStringAcc) grow(n int) {
	a.growNulls(n)
	a.vals = aggGrow(a.vals, n)
	a.set = aggGrow(a.set, n)
}

func (a *minMaxStringAcc) update(col arrow.Array, ids []uint32) error {
	if !a.countNulls(col, ids) {
		return nil
	}
	s := col.(*array.String)
	offs := s.ValueOffsets()
	var data []byte
	if buf := s.Data().Buffers()[2]; buf != nil {
		data = buf.Bytes()
	}
	vb, off := aggValidity(col)
	for i, g := range ids {
		if vb != nil && !bitutil.BitIsSet(vb, off+i) {
			continue
		}
		b := data[offs[i]:offs[i+1]]
		if !a.set[g] || (a.isMax && string(b) > a.vals[g]) || (!a.isMax && string(b) < a.vals[g]) {
			a.strBytes += int64(len(b) - len(a.vals[g]))
			a.vals[g] = string(b)
			a.set[g] = true
		}
	}
	return nil
}

func (a *minMaxStringAcc) build(mem memory.Allocator, gids []uint32, rows []int64) (arrow.Array, error) {
	b := array.NewStringBuilder(mem)
	defer b.Release()
	b.Reserve(len(gids))
	valid := a.validFunc(gids, rows)
	for k, g := range gids {
		if valid(k) {
			b.Append(a.vals[g])
		} else {
			b.AppendNull()
		}
	}
	return b.NewArray(), nil
}

func (a *minMaxStringAcc) bytes() int64 {
	return int64(cap(a.nulls))*8 + int64(cap(a.vals))*16 + int64(cap(a.set)) + a.strBytes
}

func (a *minMaxStringAcc) compact(keep []uint32, _ []int32) {
	a.nulls, a.vals, a.set = aggCompact(a.nulls, keep), aggCompact(a.vals, keep), aggCompact(a.set, keep)
	a.strBytes = 0
	for _, v := range a.vals {
		a.strBytes += int64(len(v))
	}
}

// nullResultAcc is sum/avg/min/max over an untyped NULL argument: NULL for every group.
type nullResultAcc struct{ typ arrow.DataType }

func (*nullResultAcc) grow(int)                           {}
func (*nullResultAcc) update(arrow.Array, []uint32) error { return nil }
func (*nullResultAcc) bytes() int64                       { return 0 }
func (*nullResultAcc) compact([]uint32, []int32)          {}
func (a *nullResultAcc) build(mem memory.Allocator, gids []uint32, _ []int64) (arrow.Array, error) {
	return ConstantArray(mem, a.typ, nil, len(gids))
}
