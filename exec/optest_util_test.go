package exec_test

// Shared helpers for the operator tests (filter, project, limit, union, sort, hashjoin, explode,
// tree). Inputs are written as Go rows of Datums, turned into Arrow records split at a chosen batch
// size, pushed through an operator, and the emitted rows are read back as Datums and compared with
// a naive oracle computed over the Go rows.
//
// Every test runs on a memory.CheckedAllocator and asserts that nothing is outstanding once the
// operator is closed and every record the test kept has been released.

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/watermark"
)

// opBatchSizes are the record sizes every operator case runs at (CockroachDB style): the input is
// split into records of this many rows before it is pushed.
var opBatchSizes = []int{1, 7, 1024, 64 * 1024}

// opDecimal is the DECIMAL type the tests use for keys and values.
var opDecimal = exec.Decimal(10, 2)

// opCtx returns a Ctx whose allocator is checked, and the allocator to assert on.
func opCtx() (*exec.Ctx, *memory.CheckedAllocator) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	return &exec.Ctx{Context: context.Background(), Mem: mem, Now: time.Unix(1_700_000_000, 0).UTC()}, mem
}

// opAssertNoLeak fails the test when mem still has bytes allocated.
func opAssertNoLeak(t testing.TB, mem *memory.CheckedAllocator) {
	t.Helper()
	if n := mem.CurrentAlloc(); n != 0 {
		mem.AssertSize(t, 0) // prints where the leaked buffers were allocated
		t.Fatalf("memory leak: %d bytes still allocated", n)
	}
}

// opSchema builds a schema of nullable fields c0, c1, ... of the given types.
func opSchema(types ...arrow.DataType) *arrow.Schema {
	fields := make([]arrow.Field, len(types))
	for i, ty := range types {
		fields[i] = arrow.Field{Name: fmt.Sprintf("c%d", i), Type: ty, Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

// opRecords builds rows into records of at most batch rows each. The records are slices of one
// larger record (so all but the first have a non-zero array offset, which operators must honour).
// The caller releases them with opRelease.
func opRecords(t testing.TB, mem memory.Allocator, s *arrow.Schema, rows [][]exec.Datum, batch int) []arrow.RecordBatch {
	t.Helper()
	whole := opRecord(t, mem, s, rows)
	defer whole.Release()
	var out []arrow.RecordBatch
	for lo := 0; lo < len(rows); lo += batch {
		hi := min(lo+batch, len(rows))
		out = append(out, whole.NewSlice(int64(lo), int64(hi)))
	}
	return out
}

// opRecord builds rows into one record owned by the caller.
func opRecord(t testing.TB, mem memory.Allocator, s *arrow.Schema, rows [][]exec.Datum) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(mem, s)
	defer b.Release()
	for _, row := range rows {
		if len(row) != s.NumFields() {
			t.Fatalf("test row has %d values, schema has %d fields", len(row), s.NumFields())
		}
		for c, v := range row {
			if err := opAppend(b.Field(c), v); err != nil {
				t.Fatalf("append %v to column %d: %v", v, c, err)
			}
		}
	}
	return b.NewRecordBatch()
}

// opAppend is exec.AppendDatum extended to LIST columns, whose test Datum is a []exec.Datum
// (nil: a NULL list).
func opAppend(b array.Builder, v exec.Datum) error {
	lb, ok := b.(*array.ListBuilder)
	if !ok {
		return exec.AppendDatum(b, v)
	}
	if v == nil {
		lb.AppendNull()
		return nil
	}
	elems, ok := v.([]exec.Datum)
	if !ok {
		return fmt.Errorf("list value %v is %T, not []exec.Datum", v, v)
	}
	lb.Append(true)
	for _, e := range elems {
		if err := exec.AppendDatum(lb.ValueBuilder(), e); err != nil {
			return err
		}
	}
	return nil
}

func opRelease(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}

// opRows reads every row of rec as Datums.
func opRows(rec arrow.RecordBatch) [][]exec.Datum {
	out := make([][]exec.Datum, rec.NumRows())
	for i := range out {
		row := make([]exec.Datum, rec.NumCols())
		for c := range row {
			row[c] = exec.ValueAt(rec.Column(c), i)
		}
		out[i] = row
	}
	return out
}

// opSink collects what an operator emits. It Retains each record (emit only lends it) and checks
// the record against the operator's schema; rows are read back after the operator is closed, which
// also proves the records outlive the operator's own references.
type opSink struct {
	t       testing.TB
	schema  *arrow.Schema
	recs    []arrow.RecordBatch
	weights []*array.Int64
}

func newOpSink(t testing.TB, schema *arrow.Schema) *opSink { return &opSink{t: t, schema: schema} }

func (s *opSink) emit(d exec.Delta) error {
	s.t.Helper()
	if !d.Rec.Schema().Equal(s.schema) {
		s.t.Fatalf("emitted schema %s, operator schema %s", d.Rec.Schema(), s.schema)
	}
	for c, col := range d.Rec.Columns() {
		if int64(col.Len()) != d.Rec.NumRows() {
			s.t.Fatalf("emitted column %d has %d rows, record has %d", c, col.Len(), d.Rec.NumRows())
		}
	}
	d.Rec.Retain()
	s.recs = append(s.recs, d.Rec)
	if d.Weights != nil {
		d.Weights.Retain()
	}
	s.weights = append(s.weights, d.Weights)
	return nil
}

// rows returns all emitted rows in emission order.
func (s *opSink) rows() [][]exec.Datum {
	var out [][]exec.Datum
	for _, r := range s.recs {
		out = append(out, opRows(r)...)
	}
	return out
}

func (s *opSink) release() {
	opRelease(s.recs)
	for _, w := range s.weights {
		if w != nil {
			w.Release()
		}
	}
	s.recs, s.weights = nil, nil
}

// opPush pushes recs to one input of op.
func opPush(t testing.TB, ctx *exec.Ctx, op exec.Operator, input int, recs []arrow.RecordBatch, emit exec.Emit) {
	t.Helper()
	for _, r := range recs {
		if err := op.Push(ctx, input, exec.Delta{Rec: r}, emit); err != nil {
			t.Fatalf("push input %d: %v", input, err)
		}
	}
}

// opRunUnary pushes rows (split at batch) through a single-input operator, flushes it as a batch
// query, closes it, and returns the emitted rows in order. It asserts that nothing leaked.
func opRunUnary(t testing.TB, op exec.Operator, in *arrow.Schema, rows [][]exec.Datum, batch int) [][]exec.Datum {
	t.Helper()
	ctx, mem := opCtx()
	recs := opRecords(t, mem, in, rows, batch)
	sink := newOpSink(t, op.Schema())
	opPush(t, ctx, op, 0, recs, sink.emit)
	opRelease(recs)
	if err := op.Flush(ctx, watermark.MaxTime, sink.emit); err != nil {
		t.Fatalf("flush: %v", err)
	}
	if err := op.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	got := sink.rows()
	sink.release()
	opAssertNoLeak(t, mem)
	return got
}

// opCall binds a registered function over exprs.
func opCall(t testing.TB, name string, args ...exec.Expr) exec.Expr {
	t.Helper()
	types := make([]arrow.DataType, len(args))
	for i, a := range args {
		types[i] = a.Type()
	}
	b, err := exec.BindCall(name, types)
	if err != nil {
		t.Fatalf("bind %s: %v", name, err)
	}
	return &exec.Call{Name: name, Args: args, Bound: b}
}

func opCol(i int, ty arrow.DataType) exec.Expr { return &exec.ColumnRef{Index: i, Typ: ty} }

func opLit(v exec.Datum, ty arrow.DataType) exec.Expr { return &exec.Literal{Value: v, Typ: ty} }

// Value pools: small domains so keys repeat, with the awkward values of each type.
var (
	opNegNaN     = math.Float64frombits(0xFFF8000000000000) // a NaN with other bits than math.NaN()
	opFloatPool  = []float64{0, math.Copysign(0, -1), math.NaN(), opNegNaN, 1.5, -2.25, math.Inf(1), math.Inf(-1)}
	opStringPool = []string{"", "a", "b", "ab", "ba", "héllo", "a\x00"}
)

// opRandDatum draws a value of type ty, NULL with probability nullPct percent.
func opRandDatum(r *rand.Rand, ty arrow.DataType, nullPct int) exec.Datum {
	if r.IntN(100) < nullPct {
		return nil
	}
	switch ty.ID() {
	case arrow.INT64:
		return int64(r.IntN(8) - 3)
	case arrow.FLOAT64:
		return opFloatPool[r.IntN(len(opFloatPool))]
	case arrow.STRING:
		return opStringPool[r.IntN(len(opStringPool))]
	case arrow.BOOL:
		return r.IntN(2) == 0
	case arrow.TIMESTAMP:
		return int64(1_700_000_000_000_000 + r.IntN(5)*1_000_000)
	case arrow.DECIMAL128:
		return decimal128.FromI64(int64(r.IntN(7)-3) * 25)
	case arrow.DATE32:
		return int32(19_000 + r.IntN(5) - 2)
	case arrow.DURATION:
		return int64(r.IntN(5)-2) * 3_600_000_000
	}
	panic("opRandDatum: unsupported type " + ty.String())
}

// opRandRows draws n rows of the given types.
func opRandRows(r *rand.Rand, n int, nullPct int, types ...arrow.DataType) [][]exec.Datum {
	rows := make([][]exec.Datum, n)
	for i := range rows {
		row := make([]exec.Datum, len(types))
		for c, ty := range types {
			row[c] = opRandDatum(r, ty, nullPct)
		}
		rows[i] = row
	}
	return rows
}

// opSQLEqual is SQL equality of two Datums as a join uses it: NULL never matches; DOUBLE -0.0
// equals 0.0 and NaN equals NaN (PostgreSQL's float8 semantics, the same the hash aggregate uses).
func opSQLEqual(a, b exec.Datum) bool {
	if a == nil || b == nil {
		return false
	}
	if x, ok := a.(float64); ok {
		y := b.(float64)
		return x == y || (math.IsNaN(x) && math.IsNaN(y))
	}
	return a == b
}

// opCompare orders two non-NULL Datums of one type the way PostgreSQL's ORDER BY does (NaN above
// every other DOUBLE, -0.0 equal to 0.0, strings by bytes).
func opCompare(a, b exec.Datum) int {
	switch x := a.(type) {
	case int64:
		y := b.(int64)
		return cmpOrdered(x, y)
	case float64:
		y := b.(float64)
		xn, yn := math.IsNaN(x), math.IsNaN(y)
		switch {
		case xn && yn:
			return 0
		case xn:
			return 1
		case yn:
			return -1
		}
		return cmpOrdered(x, y)
	case string:
		return strings.Compare(x, b.(string))
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case decimal128.Num:
		return x.Cmp(b.(decimal128.Num))
	case int32:
		return cmpOrdered(x, b.(int32))
	}
	panic(fmt.Sprintf("opCompare: unsupported %T", a))
}

func cmpOrdered[T int64 | int32 | float64](x, y T) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// opDatumKey appends a rendering of v to buf that is unambiguous and bit-exact (floats by their
// bits), for comparing row multisets. It avoids fmt: the large-join tests render 90,000 rows.
func opDatumKey(buf []byte, v exec.Datum) []byte {
	switch x := v.(type) {
	case nil:
		return append(buf, "NULL"...)
	case int64:
		return strconv.AppendInt(append(buf, 'i'), x, 10)
	case int32:
		return strconv.AppendInt(append(buf, 'd'), int64(x), 10)
	case float64:
		return strconv.AppendUint(append(buf, 'f'), math.Float64bits(x), 16)
	case string:
		return strconv.AppendQuote(append(buf, 's'), x)
	case bool:
		return strconv.AppendBool(append(buf, 'b'), x)
	case decimal128.Num:
		buf = strconv.AppendInt(append(buf, 'n'), x.HighBits(), 16)
		return strconv.AppendUint(append(buf, ':'), x.LowBits(), 16)
	}
	return fmt.Appendf(buf, "%T:%v", v, v)
}

func opRowKey(row []exec.Datum) string {
	var buf []byte
	for i, v := range row {
		if i > 0 {
			buf = append(buf, '|')
		}
		buf = opDatumKey(buf, v)
	}
	return string(buf)
}

// opSameRows asserts got and want hold the same rows in the same order, bit-exactly.
func opSameRows(t testing.TB, label string, got, want [][]exec.Datum) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d rows, want %d\n%s", label, len(got), len(want), opDiff(got, want))
	}
	for i := range got {
		if opRowKey(got[i]) != opRowKey(want[i]) {
			t.Fatalf("%s: row %d is %s, want %s\n%s", label, i, opRowKey(got[i]), opRowKey(want[i]), opDiff(got, want))
		}
	}
}

// opSameMultiset asserts got and want hold the same rows in any order.
func opSameMultiset(t testing.TB, label string, got, want [][]exec.Datum) {
	t.Helper()
	g, w := opSortedKeys(got), opSortedKeys(want)
	if !slices.Equal(g, w) {
		t.Fatalf("%s: got %d rows, want %d (as multisets)\n%s", label, len(got), len(want), opDiff(got, want))
	}
}

func opSortedKeys(rows [][]exec.Datum) []string {
	keys := make([]string, len(rows))
	for i, r := range rows {
		keys[i] = opRowKey(r)
	}
	slices.Sort(keys)
	return keys
}

// opDiff shows the first rows of both sides for a failure message.
func opDiff(got, want [][]exec.Datum) string {
	var b strings.Builder
	show := func(name string, rows [][]exec.Datum) {
		fmt.Fprintf(&b, "%s (%d rows):\n", name, len(rows))
		for i, r := range rows {
			if i == 12 {
				fmt.Fprintf(&b, "  ...\n")
				break
			}
			fmt.Fprintf(&b, "  %s\n", opRowKey(r))
		}
	}
	show("got", got)
	show("want", want)
	return b.String()
}
