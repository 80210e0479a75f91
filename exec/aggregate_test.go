package exec

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/streamsql/streamsql/watermark"
)

// The oracle of these tests is refAggregate: a naive implementation that keeps every group's
// argument values in a Go map keyed by a canonical string of the key tuple and computes each
// aggregate from the value list with math/big.

// aggTestSchema has key candidates (k*) with small domains and argument columns (v*) of every type.
var aggTestSchema = arrow.NewSchema([]arrow.Field{
	{Name: "kb", Type: Bool, Nullable: true},
	{Name: "ki", Type: Int64, Nullable: true},
	{Name: "kf", Type: Float64, Nullable: true},
	{Name: "kd", Type: Decimal(5, 2), Nullable: true},
	{Name: "ks", Type: String, Nullable: true},
	{Name: "kt", Type: Timestamp, Nullable: true},
	{Name: "kdate", Type: Date, Nullable: true},
	{Name: "kiv", Type: Interval, Nullable: true},
	{Name: "knull", Type: Null, Nullable: true},
	{Name: "vi", Type: Int64, Nullable: true},
	{Name: "vf", Type: Float64, Nullable: true},
	{Name: "vd", Type: Decimal(12, 3), Nullable: true},
	{Name: "vs", Type: String, Nullable: true},
	{Name: "vb", Type: Bool, Nullable: true},
	{Name: "vts", Type: Timestamp, Nullable: true},
	{Name: "vdate", Type: Date, Nullable: true},
	{Name: "viv", Type: Interval, Nullable: true},
	{Name: "vnull", Type: Null, Nullable: true},
}, nil)

var aggTestStrings = []string{"", "a", "b", "ab", "ba", "A", "zz", "é", "a longer string over sixteen bytes", "a longer string over sixteen bytez"}

// aggRandomDatum draws a value for column c of aggTestSchema; NULL with probability 1/10.
func aggRandomDatum(r *rand.Rand, c int) Datum {
	if r.IntN(10) == 0 {
		return nil
	}
	switch aggTestSchema.Field(c).Name {
	case "kb", "vb":
		return r.IntN(2) == 0
	case "ki":
		return int64(r.IntN(12)) - 3 + int64(r.IntN(2))*math.MinInt64/2
	case "kf":
		return []float64{0, math.Copysign(0, -1), 1.5, -2, math.NaN(), math.Inf(1), math.Float64frombits(0x7ff8000000000123)}[r.IntN(7)]
	case "kd":
		return decimal128.FromI64(int64(r.IntN(5)*125 - 250))
	case "ks":
		return aggTestStrings[r.IntN(len(aggTestStrings))]
	case "kt", "kiv":
		return int64(r.IntN(6)) * 1_000_000 * 3600
	case "kdate":
		return int32(r.IntN(6) - 2)
	case "vi":
		if r.IntN(50) == 0 {
			return int64(math.MaxInt64 / 1024)
		}
		return int64(r.IntN(2001) - 1000)
	case "vf":
		if r.IntN(60) == 0 {
			return []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1)}[r.IntN(4)]
		}
		return float64(r.IntN(4001)-2000) / 8
	case "vd":
		return decimal128.FromI64(r.Int64N(2_000_000_000) - 1_000_000_000)
	case "vs":
		return aggTestStrings[r.IntN(len(aggTestStrings))]
	case "vts", "viv":
		return r.Int64N(1<<50) - 1<<49
	case "vdate":
		return int32(r.IntN(40000) - 20000)
	}
	return nil // knull, vnull
}

// aggRandomRecord builds n random rows of aggTestSchema and also returns them as datums.
func aggRandomRecord(t *testing.T, mem memory.Allocator, r *rand.Rand, n int) (arrow.RecordBatch, [][]Datum) {
	t.Helper()
	rows := make([][]Datum, n)
	cols := make([]arrow.Array, aggTestSchema.NumFields())
	for c := range cols {
		b := array.NewBuilder(mem, aggTestSchema.Field(c).Type)
		for i := 0; i < n; i++ {
			if c == 0 {
				rows[i] = make([]Datum, len(cols))
			}
			v := aggRandomDatum(r, c)
			rows[i][c] = v
			if err := AppendDatum(b, v); err != nil {
				t.Fatal(err)
			}
		}
		cols[c] = b.NewArray()
		b.Release()
	}
	rec := array.NewRecordBatch(aggTestSchema, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return rec, rows
}

// aggOutSchema builds the output schema the planner would.
func aggOutSchema(t *testing.T, in *arrow.Schema, groupCols []int, aggs []AggSpec) *arrow.Schema {
	t.Helper()
	var fs []arrow.Field
	for _, c := range groupCols {
		fs = append(fs, arrow.Field{Name: in.Field(c).Name, Type: in.Field(c).Type, Nullable: true})
	}
	for i, a := range aggs {
		var arg arrow.DataType
		if a.Kind != AggCountStar {
			arg = in.Field(a.Col).Type
		}
		rt, err := AggResultType(a.Kind, arg)
		if err != nil {
			t.Fatalf("AggResultType(%s): %v", a, err)
		}
		fs = append(fs, arrow.Field{Name: fmt.Sprintf("a%d", i), Type: rt, Nullable: true})
	}
	return arrow.NewSchema(fs, nil)
}

// aggAllSpecs is every aggregate the test schema supports.
func aggAllSpecs() []AggSpec {
	specs := []AggSpec{{Kind: AggCountStar}}
	for c := 9; c < aggTestSchema.NumFields(); c++ {
		specs = append(specs, AggSpec{Kind: AggCount, Col: c}, AggSpec{Kind: AggMin, Col: c}, AggSpec{Kind: AggMax, Col: c},
			AggSpec{Kind: AggCount, Col: c, Distinct: true}, AggSpec{Kind: AggMax, Col: c, Distinct: true})
	}
	for _, c := range []int{9, 10, 11, 17} {
		specs = append(specs, AggSpec{Kind: AggSum, Col: c}, AggSpec{Kind: AggAvg, Col: c},
			AggSpec{Kind: AggSum, Col: c, Distinct: true}, AggSpec{Kind: AggAvg, Col: c, Distinct: true})
	}
	return specs
}

// aggCanon is a canonical string of a value: equal strings iff the values are the same group key
// (-0.0 = 0.0, NaN = NaN, NULL = NULL).
func aggCanon(v Datum) string {
	switch x := v.(type) {
	case nil:
		return "N"
	case float64:
		if x != x {
			return "f:NaN"
		}
		if x == 0 {
			return "f:0"
		}
		return fmt.Sprintf("f:%b", x)
	case decimal128.Num:
		return "d:" + x.BigInt().String()
	}
	return fmt.Sprintf("%T:%v", v, v)
}

// aggLess is PostgreSQL's order of non-NULL values of one type (NaN greatest).
func aggLess(a, b Datum) bool {
	switch x := a.(type) {
	case bool:
		return !x && b.(bool)
	case int64:
		return x < b.(int64)
	case int32:
		return x < b.(int32)
	case float64:
		y := b.(float64)
		return x < y || (y != y && x == x)
	case string:
		return x < b.(string)
	case decimal128.Num:
		return x.Less(b.(decimal128.Num))
	}
	panic(fmt.Sprintf("aggLess: %T", a))
}

// refAggregate computes the expected output rows, each the group key datums then the aggregates.
func refAggregate(in *arrow.Schema, rows [][]Datum, groupCols []int, aggs []AggSpec, out *arrow.Schema) ([][]Datum, error) {
	type group struct {
		key  []Datum
		rows int64
		vals [][]Datum
		seen []map[string]bool
	}
	groups := map[string]*group{}
	var order []string
	if len(groupCols) == 0 {
		groups[""] = &group{vals: make([][]Datum, len(aggs)), seen: make([]map[string]bool, len(aggs))}
		order = append(order, "")
	}
	for _, row := range rows {
		var sb strings.Builder
		key := make([]Datum, len(groupCols))
		for i, c := range groupCols {
			key[i] = row[c]
			sb.WriteString(aggCanon(row[c]) + "|")
		}
		g := groups[sb.String()]
		if g == nil {
			g = &group{key: key, vals: make([][]Datum, len(aggs)), seen: make([]map[string]bool, len(aggs))}
			groups[sb.String()] = g
			order = append(order, sb.String())
		}
		g.rows++
		for i, a := range aggs {
			if a.Kind == AggCountStar || row[a.Col] == nil {
				continue
			}
			v := row[a.Col]
			if a.Distinct {
				if g.seen[i] == nil {
					g.seen[i] = map[string]bool{}
				}
				if g.seen[i][aggCanon(v)] {
					continue
				}
				g.seen[i][aggCanon(v)] = true
			}
			g.vals[i] = append(g.vals[i], v)
		}
	}
	var res [][]Datum
	for _, k := range order {
		g := groups[k]
		row := append([]Datum(nil), g.key...)
		for i, a := range aggs {
			scale := int32(0)
			if a.Kind != AggCountStar {
				if d, ok := in.Field(a.Col).Type.(*arrow.Decimal128Type); ok {
					scale = d.Scale
				}
			}
			v, err := refAggValue(a.Kind, scale, g.rows, g.vals[i])
			if err != nil {
				return nil, err
			}
			row = append(row, v)
		}
		res = append(res, row)
	}
	return res, nil
}

// refAggValue computes one aggregate from a group's row count and non-NULL argument values; scale
// is the argument's DECIMAL scale.
func refAggValue(kind AggKind, scale int32, rows int64, vals []Datum) (Datum, error) {
	switch kind {
	case AggCountStar:
		return rows, nil
	case AggCount:
		return int64(len(vals)), nil
	}
	if len(vals) == 0 {
		return nil, nil
	}
	switch kind {
	case AggMin, AggMax:
		m := vals[0]
		for _, v := range vals[1:] {
			if (kind == AggMin && aggLess(v, m)) || (kind == AggMax && aggLess(m, v)) {
				m = v
			}
		}
		return m, nil
	}
	// sum, avg
	switch vals[0].(type) {
	case float64:
		s := 0.0
		for _, v := range vals {
			s += v.(float64)
		}
		if kind == AggAvg {
			return s / float64(len(vals)), nil
		}
		return s, nil
	case int64:
		s := new(big.Int)
		for _, v := range vals {
			s.Add(s, big.NewInt(v.(int64)))
		}
		if kind == AggAvg {
			f, _ := new(big.Rat).SetFrac(s, big.NewInt(int64(len(vals)))).Float64()
			return f, nil
		}
		if !s.IsInt64() {
			return nil, fmt.Errorf("bigint out of range in sum")
		}
		return s.Int64(), nil
	case decimal128.Num:
		s := new(big.Int)
		for _, v := range vals {
			s.Add(s, v.(decimal128.Num).BigInt())
		}
		if kind == AggAvg {
			d := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)
			d.Mul(d, big.NewInt(int64(len(vals))))
			f, _ := new(big.Rat).SetFrac(s, d).Float64()
			return f, nil
		}
		return decimal128.FromBigInt(s), nil
	}
	return nil, fmt.Errorf("refAggValue: %T", vals[0])
}

// aggDatumEqual compares an output value with the expected one (DOUBLE within 1e-9 relative).
func aggDatumEqual(got, want Datum) bool {
	if got == nil || want == nil {
		return got == nil && want == nil
	}
	if g, ok := got.(float64); ok {
		w := want.(float64)
		if g != g || w != w {
			return g != g && w != w
		}
		if g == w {
			return true
		}
		return math.Abs(g-w) <= 1e-9*math.Max(math.Abs(g), math.Abs(w))
	}
	return aggCanon(got) == aggCanon(want)
}

// runAgg pushes rec in slices of batch rows (zero-copy slices, so arrays have offsets) and returns
// the flushed output rows.
func runAgg(t *testing.T, ctx *Ctx, op Operator, rec arrow.RecordBatch, batch int) ([][]Datum, error) {
	t.Helper()
	for off := int64(0); off < rec.NumRows(); off += int64(batch) {
		s := rec.NewSlice(off, min(rec.NumRows(), off+int64(batch)))
		err := op.Push(ctx, 0, Delta{Rec: s}, nil)
		s.Release()
		if err != nil {
			return nil, err
		}
	}
	return flushRows(t, ctx, op)
}

func flushRows(t *testing.T, ctx *Ctx, op Operator) ([][]Datum, error) {
	t.Helper()
	var out [][]Datum
	err := op.Flush(ctx, watermark.MaxTime, func(d Delta) error {
		if d.Rec.NumRows() > aggMaxBatchRows {
			t.Errorf("emitted %d rows in one record, limit %d", d.Rec.NumRows(), aggMaxBatchRows)
		}
		if !d.Rec.Schema().Equal(op.Schema()) {
			t.Errorf("emitted schema %s, want %s", d.Rec.Schema(), op.Schema())
		}
		for i := 0; i < int(d.Rec.NumRows()); i++ {
			row := make([]Datum, d.Rec.NumCols())
			for c := range row {
				row[c] = ValueAt(d.Rec.Column(c), i)
			}
			out = append(out, row)
		}
		return nil
	})
	return out, err
}

// compareAggRows matches output and expected rows by their key columns.
func compareAggRows(t *testing.T, label string, nkeys int, out *arrow.Schema, got, want [][]Datum) {
	t.Helper()
	index := func(rows [][]Datum) map[string][]Datum {
		m := map[string][]Datum{}
		for _, r := range rows {
			var sb strings.Builder
			for _, v := range r[:nkeys] {
				sb.WriteString(aggCanon(v) + "|")
			}
			if _, dup := m[sb.String()]; dup {
				t.Errorf("%s: group %s emitted twice", label, sb.String())
			}
			m[sb.String()] = r
		}
		return m
	}
	g, w := index(got), index(want)
	if len(got) != len(want) {
		t.Errorf("%s: %d groups, want %d", label, len(got), len(want))
	}
	keys := make([]string, 0, len(w))
	for k := range w {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	errs := 0
	for _, k := range keys {
		gr, ok := g[k]
		if !ok {
			t.Errorf("%s: group %s missing", label, k)
			errs++
			continue
		}
		for c := nkeys; c < len(gr); c++ {
			if !aggDatumEqual(gr[c], w[k][c]) {
				t.Errorf("%s: group %s column %s: got %v, want %v", label, k, out.Field(c).Name, gr[c], w[k][c])
				errs++
			}
		}
		if errs > 10 {
			t.Fatalf("%s: too many differences", label)
		}
	}
}

func newTestCtx(mem memory.Allocator) *Ctx {
	return &Ctx{Context: context.Background(), Mem: mem, Now: time.Unix(0, 0)}
}

func TestHashAggregateMatchesReference(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := newTestCtx(mem)
	r := rand.New(rand.NewPCG(1, 2))
	rec, rows := aggRandomRecord(t, mem, r, 3000)
	defer rec.Release()
	aggs := aggAllSpecs()
	keySets := [][]int{
		{}, {1}, {4}, {0}, {2}, {3}, {5}, {6}, {7}, {8},
		{1, 4}, {4, 2, 0, 3, 6}, {8, 1}, {7, 5, 4, 2},
	}
	for _, keys := range keySets {
		out := aggOutSchema(t, aggTestSchema, keys, aggs)
		want, err := refAggregate(aggTestSchema, rows, keys, aggs, out)
		if err != nil {
			t.Fatal(err)
		}
		for _, batch := range []int{1, 7, 1024, 65536} {
			if batch == 1 && len(keys) > 2 {
				continue // the one-row path is covered by the shapes above; keep the test fast
			}
			label := fmt.Sprintf("keys %v batch %d", keys, batch)
			op, err := NewHashAggregate(aggTestSchema, keys, aggs, out)
			if err != nil {
				t.Fatalf("%s: %v", label, err)
			}
			got, err := runAgg(t, ctx, op, rec, batch)
			if err != nil {
				t.Fatalf("%s: %v", label, err)
			}
			compareAggRows(t, label, len(keys), out, got, want)
			if sr := op.(*HashAggregate).StateRows(); sr != int64(len(want)) {
				t.Errorf("%s: StateRows %d, want %d", label, sr, len(want))
			}
			if op.(*HashAggregate).StateBytes() <= 0 {
				t.Errorf("%s: StateBytes %d", label, op.(*HashAggregate).StateBytes())
			}
			op.Close()
		}
	}
}

// TestHashAggregateKeepsStateAcrossFlush checks that a Flush before the end of input emits the groups
// so far and that later rows keep accumulating into the same groups.
func TestHashAggregateKeepsStateAcrossFlush(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := newTestCtx(mem)
	r := rand.New(rand.NewPCG(3, 4))
	rec, rows := aggRandomRecord(t, mem, r, 2000)
	defer rec.Release()
	aggs := aggAllSpecs()
	keys := []int{4, 1}
	out := aggOutSchema(t, aggTestSchema, keys, aggs)
	op, err := NewHashAggregate(aggTestSchema, keys, aggs, out)
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	first := rec.NewSlice(0, 1200)
	defer first.Release()
	got, err := runAgg(t, ctx, op, first, 100)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := refAggregate(aggTestSchema, rows[:1200], keys, aggs, out)
	compareAggRows(t, "first flush", len(keys), out, got, want)
	rest := rec.NewSlice(1200, 2000)
	defer rest.Release()
	got, err = runAgg(t, ctx, op, rest, 333)
	if err != nil {
		t.Fatal(err)
	}
	want, _ = refAggregate(aggTestSchema, rows, keys, aggs, out)
	compareAggRows(t, "second flush", len(keys), out, got, want)
}

// TestHashAggregateManyGroups has more groups than one output record holds, for each table kind.
func TestHashAggregateManyGroups(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := newTestCtx(mem)
	const n = 70000
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: Int64}, {Name: "s", Type: String}, {Name: "v", Type: Int64}}, nil)
	kb, sb, vb := array.NewInt64Builder(mem), array.NewStringBuilder(mem), array.NewInt64Builder(mem)
	var rows [][]Datum
	for i := 0; i < 2*n; i++ {
		k := int64(i%n) * 7919
		s := fmt.Sprintf("key-%d", i%n)
		kb.Append(k)
		sb.Append(s)
		vb.Append(int64(i))
		rows = append(rows, []Datum{k, s, int64(i)})
	}
	cols := []arrow.Array{kb.NewArray(), sb.NewArray(), vb.NewArray()}
	kb.Release()
	sb.Release()
	vb.Release()
	rec := array.NewRecordBatch(schema, cols, 2*n)
	for _, c := range cols {
		c.Release()
	}
	defer rec.Release()
	aggs := []AggSpec{{Kind: AggCountStar}, {Kind: AggSum, Col: 2}, {Kind: AggMin, Col: 2}}
	for _, keys := range [][]int{{0}, {1}, {0, 1}} {
		out := aggOutSchema(t, schema, keys, aggs)
		op, err := NewHashAggregate(schema, keys, aggs, out)
		if err != nil {
			t.Fatal(err)
		}
		got, err := runAgg(t, ctx, op, rec, 65536)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := refAggregate(schema, rows, keys, aggs, out)
		compareAggRows(t, fmt.Sprintf("keys %v", keys), len(keys), out, got, want)
		op.Close()
	}
}

func TestHashAggregateEmptyInput(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := newTestCtx(mem)
	aggs := aggAllSpecs()
	empty, _ := aggRandomRecord(t, mem, rand.New(rand.NewPCG(1, 1)), 0)
	defer empty.Release()

	out := aggOutSchema(t, aggTestSchema, nil, aggs)
	op, err := NewHashAggregate(aggTestSchema, nil, aggs, out)
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	got, err := runAgg(t, ctx, op, empty, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("no group columns, no input: %d rows, want 1", len(got))
	}
	for c, v := range got[0] {
		var want Datum
		if k := aggs[c].Kind; k == AggCount || k == AggCountStar {
			want = int64(0)
		}
		if !aggDatumEqual(v, want) {
			t.Errorf("column %s (%s) = %v, want %v", out.Field(c).Name, aggs[c], v, want)
		}
	}

	out = aggOutSchema(t, aggTestSchema, []int{1, 4}, aggs)
	op2, err := NewHashAggregate(aggTestSchema, []int{1, 4}, aggs, out)
	if err != nil {
		t.Fatal(err)
	}
	defer op2.Close()
	if got, err := runAgg(t, ctx, op2, empty, 10); err != nil || len(got) != 0 {
		t.Fatalf("group columns, no input: %d rows, err %v; want none", len(got), err)
	}
}

func aggInt64Record(mem memory.Allocator, schema *arrow.Schema, cols ...[]int64) arrow.RecordBatch {
	arrs := make([]arrow.Array, len(cols))
	for i, c := range cols {
		b := array.NewInt64Builder(mem)
		b.AppendValues(c, nil)
		arrs[i] = b.NewArray()
		b.Release()
	}
	rec := array.NewRecordBatch(schema, arrs, int64(len(cols[0])))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

func TestHashAggregateSumOverflow(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := newTestCtx(mem)
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: Int64}, {Name: "v", Type: Int64}}, nil)
	aggs := []AggSpec{{Kind: AggSum, Col: 1}, {Kind: AggAvg, Col: 1}}
	out := aggOutSchema(t, schema, []int{0}, aggs)

	// An intermediate sum above the BIGINT range is fine when the result fits (the sum is exact).
	rec := aggInt64Record(mem, schema, []int64{1, 1, 1, 2}, []int64{math.MaxInt64, 5, -10, math.MinInt64})
	defer rec.Release()
	op, _ := NewHashAggregate(schema, []int{0}, aggs, out)
	got, err := runAgg(t, ctx, op, rec, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]Datum{{int64(1), int64(math.MaxInt64 - 5), float64(math.MaxInt64-5) / 3}, {int64(2), int64(math.MinInt64), float64(math.MinInt64)}}
	compareAggRows(t, "fits", 1, out, got, want)
	op.Close()

	for _, vals := range [][]int64{{math.MaxInt64, 1}, {math.MinInt64, -1}, {math.MaxInt64, math.MaxInt64, math.MaxInt64}} {
		rec := aggInt64Record(mem, schema, make([]int64, len(vals)), vals)
		op, _ := NewHashAggregate(schema, []int{0}, aggs, out)
		_, err := runAgg(t, ctx, op, rec, 2)
		if err == nil || !strings.Contains(err.Error(), "bigint out of range in sum") {
			t.Errorf("sum of %v: error %v, want bigint out of range in sum", vals, err)
		}
		op.Close()
		rec.Release()
	}

	// DECIMAL sums beyond 38 digits.
	dschema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: Decimal(38, 0)}}, nil)
	daggs := []AggSpec{{Kind: AggSum, Col: 0}}
	dout := aggOutSchema(t, dschema, nil, daggs)
	b := array.NewDecimal128Builder(mem, Decimal(38, 0).(*arrow.Decimal128Type))
	big9 := decimal128.GetMaxValue(38)
	b.AppendValues([]decimal128.Num{big9, big9}, nil)
	arr := b.NewArray()
	b.Release()
	drec := array.NewRecordBatch(dschema, []arrow.Array{arr}, 2)
	arr.Release()
	defer drec.Release()
	dop, _ := NewHashAggregate(dschema, nil, daggs, dout)
	defer dop.Close()
	if _, err := runAgg(t, ctx, dop, drec, 2); err == nil || !strings.Contains(err.Error(), "numeric field overflow") {
		t.Errorf("decimal sum beyond 38 digits: error %v", err)
	}
}

func TestHashAggregateRejectsBadInput(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := newTestCtx(mem)
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: Int64}, {Name: "v", Type: Int64}}, nil)
	aggs := []AggSpec{{Kind: AggCountStar}}
	out := aggOutSchema(t, schema, []int{0}, aggs)
	op, err := NewHashAggregate(schema, []int{0}, aggs, out)
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	rec := aggInt64Record(mem, schema, []int64{1}, []int64{2})
	defer rec.Release()
	wb := array.NewInt64Builder(mem)
	wb.Append(-1)
	w := wb.NewInt64Array()
	wb.Release()
	defer w.Release()
	if err := op.Push(ctx, 0, Delta{Rec: rec, Weights: w}, nil); err == nil || !strings.Contains(err.Error(), "weighted") {
		t.Errorf("weights: error %v", err)
	}
	if err := op.Push(ctx, 1, Delta{Rec: rec}, nil); err == nil || !strings.Contains(err.Error(), "input 1") {
		t.Errorf("input 1: error %v", err)
	}
	sschema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: String}, {Name: "v", Type: Int64}}, nil)
	sb := array.NewStringBuilder(mem)
	sb.Append("x")
	sa := sb.NewArray()
	sb.Release()
	vb := array.NewInt64Builder(mem)
	vb.Append(1)
	va := vb.NewArray()
	vb.Release()
	srec := array.NewRecordBatch(sschema, []arrow.Array{sa, va}, 1)
	sa.Release()
	va.Release()
	defer srec.Release()
	if err := op.Push(ctx, 0, Delta{Rec: srec}, nil); err == nil || !strings.Contains(err.Error(), "VARCHAR") {
		t.Errorf("wrong column type: error %v", err)
	}

	cases := []struct {
		keys []int
		aggs []AggSpec
		out  *arrow.Schema
		msg  string
	}{
		{[]int{5}, aggs, out, "out of range"},
		{[]int{0}, []AggSpec{{Kind: AggSum, Col: 9}}, out, "out of range"},
		{[]int{0}, aggs, arrow.NewSchema([]arrow.Field{{Name: "k", Type: String}, {Name: "c", Type: Int64}}, nil), "type VARCHAR"},
		{[]int{0}, []AggSpec{{Kind: AggAvg, Col: 1}}, out, "avg returns DOUBLE"},
		{[]int{0}, aggs, arrow.NewSchema([]arrow.Field{{Name: "k", Type: Int64}}, nil), "want 2"},
	}
	for _, c := range cases {
		if _, err := NewHashAggregate(schema, c.keys, c.aggs, c.out); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("NewHashAggregate(%v, %v): error %v, want %q", c.keys, c.aggs, err, c.msg)
		}
	}
}

func TestAggResultType(t *testing.T) {
	cases := []struct {
		kind AggKind
		arg  arrow.DataType
		want arrow.DataType
		err  string
	}{
		{AggCountStar, nil, Int64, ""},
		{AggCount, String, Int64, ""},
		{AggCount, Null, Int64, ""},
		{AggSum, Int64, Int64, ""},
		{AggSum, Float64, Float64, ""},
		{AggSum, Decimal(10, 2), Decimal(38, 2), ""},
		{AggSum, Null, Null, ""},
		{AggAvg, Int64, Float64, ""},
		{AggAvg, Decimal(10, 2), Float64, ""},
		{AggAvg, Null, Float64, ""},
		{AggMin, String, String, ""},
		{AggMax, Timestamp, Timestamp, ""},
		{AggMin, Date, Date, ""},
		{AggMax, Interval, Interval, ""},
		{AggMin, Bool, Bool, ""},
		{AggMax, Decimal(7, 1), Decimal(7, 1), ""},
		{AggSum, String, nil, "function sum does not accept (VARCHAR)"},
		{AggAvg, Bool, nil, "function avg does not accept (BOOLEAN)"},
		{AggSum, Timestamp, nil, "function sum does not accept (TIMESTAMP)"},
		{AggMin, arrow.ListOf(Int64), nil, "function min does not accept (BIGINT[])"},
		{AggSum, nil, nil, "sum requires an argument"},
	}
	for _, c := range cases {
		got, err := AggResultType(c.kind, c.arg)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("AggResultType(%s, %s): error %v, want %q", AggName(c.kind), TypeName(c.arg), err, c.err)
			}
			continue
		}
		if err != nil || !arrow.TypeEqual(got, c.want) {
			t.Errorf("AggResultType(%s, %s) = %v, %v; want %s", AggName(c.kind), TypeName(c.arg), got, err, TypeName(c.want))
		}
	}
	for k, name := range map[AggKind]string{AggCountStar: "count", AggCount: "count", AggSum: "sum", AggAvg: "avg", AggMin: "min", AggMax: "max"} {
		if AggName(k) != name {
			t.Errorf("AggName(%d) = %q, want %q", k, AggName(k), name)
		}
	}
}
