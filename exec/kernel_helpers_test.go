package exec

import (
	"context"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Expression builders for the kernel tests: they bind calls exactly like the planner does
// (BindCall, then a cast wherever Bound.Args differs from the argument's type).

func lit(v Datum, t arrow.DataType) Expr { return &Literal{Value: v, Typ: t} }
func li(v int64) Expr                    { return lit(v, Int64) }
func lf(v float64) Expr                  { return lit(v, Float64) }
func ls(v string) Expr                   { return lit(v, String) }
func lb(v bool) Expr                     { return lit(v, Bool) }
func lnull() Expr                        { return lit(nil, Null) }

func ldec(s string, p, sc int32) Expr {
	v, ok := parseDecimal(s, sc)
	if !ok {
		panic("bad decimal literal " + s)
	}
	return lit(v, Decimal(p, sc))
}

func lts(s string) Expr {
	v, err := ParseTimestamp(s)
	if err != nil {
		panic(err)
	}
	return lit(v, Timestamp)
}

func ldate(s string) Expr {
	v, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return lit(v, Date)
}

func liv(s string) Expr {
	v, err := ParseInterval(s)
	if err != nil {
		panic(err)
	}
	return lit(v, Interval)
}

func callE(name string, args ...Expr) (Expr, error) {
	ts := make([]arrow.DataType, len(args))
	for i, a := range args {
		ts[i] = a.Type()
	}
	b, err := BindCall(name, ts)
	if err != nil {
		return nil, err
	}
	cast := make([]Expr, len(args))
	for i, a := range args {
		if cast[i], err = NewCast(a, b.Args[i]); err != nil {
			return nil, err
		}
	}
	return &Call{Name: name, Args: cast, Bound: b}, nil
}

func call(t testing.TB, name string, args ...Expr) Expr {
	t.Helper()
	e, err := callE(name, args...)
	if err != nil {
		t.Fatalf("bind %s: %v", name, err)
	}
	return e
}

func castE(t testing.TB, e Expr, to arrow.DataType) Expr {
	t.Helper()
	c, err := NewCast(e, to)
	if err != nil {
		t.Fatalf("cast: %v", err)
	}
	return c
}

var testNow = time.Date(2024, 3, 15, 12, 30, 45, 0, time.UTC)

// evalRows evaluates e over rec with a checked allocator and returns every row formatted with
// FormatValue; it fails the test when any buffer leaks.
func evalRows(t testing.TB, e Expr, rec arrow.RecordBatch) ([]string, error) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	ctx := &Ctx{Context: context.Background(), Mem: mem, Now: testNow}
	arr, err := e.Eval(ctx, rec)
	if err != nil {
		mem.AssertSize(t, 0)
		return nil, err
	}
	if arr.Len() != int(rec.NumRows()) {
		t.Errorf("%s: got %d rows, want %d", e, arr.Len(), rec.NumRows())
	}
	if !arrow.TypeEqual(arr.DataType(), e.Type()) {
		t.Errorf("%s: result type %s, declared %s", e, TypeName(arr.DataType()), TypeName(e.Type()))
	}
	out := make([]string, arr.Len())
	for i := range out {
		out[i] = FormatValue(arr, i)
		if l, ok := arr.(*array.List); ok && !l.IsNull(i) {
			out[i] = l.ValueStr(i)
		}
	}
	arr.Release()
	mem.AssertSize(t, 0)
	return out, nil
}

var oneRow = array.NewRecordBatch(arrow.NewSchema(nil, nil), nil, 1)

// evalOne evaluates a constant expression on a one-row record.
func evalOne(t testing.TB, e Expr) (string, error) {
	t.Helper()
	out, err := evalRows(t, e, oneRow)
	if err != nil {
		return "", err
	}
	return out[0], nil
}

// recordOf builds a record from columns (each a []Datum of the given type).
func recordOf(t testing.TB, types []arrow.DataType, cols ...[]Datum) arrow.RecordBatch {
	t.Helper()
	fields := make([]arrow.Field, len(types))
	arrs := make([]arrow.Array, len(types))
	for c, ty := range types {
		fields[c] = arrow.Field{Name: string(rune('a' + c)), Type: ty, Nullable: true}
		b := array.NewBuilder(memory.DefaultAllocator, ty)
		for _, v := range cols[c] {
			if err := AppendDatum(b, v); err != nil {
				t.Fatal(err)
			}
		}
		arrs[c] = b.NewArray()
		b.Release()
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, int64(len(cols[0])))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

func col(i int, ty arrow.DataType) Expr { return &ColumnRef{Index: i, Typ: ty} }

// scalarCase is one expectation: want is the formatted value, or the error text when wantErr.
type scalarCase struct {
	name    string
	e       func(t testing.TB) Expr
	want    string
	wantErr bool
}

func runScalarCases(t *testing.T, cases []scalarCase) {
	t.Helper()
	for _, c := range cases {
		e := c.e(t)
		got, err := evalOne(t, e)
		switch {
		case c.wantErr && err == nil:
			t.Errorf("%s (%s): got %q, want error %q", c.name, e, got, c.want)
		case c.wantErr && err.Error() != c.want:
			t.Errorf("%s (%s): got error %q, want %q", c.name, e, err, c.want)
		case !c.wantErr && err != nil:
			t.Errorf("%s (%s): unexpected error %v", c.name, e, err)
		case !c.wantErr && got != c.want:
			t.Errorf("%s (%s): got %q, want %q", c.name, e, got, c.want)
		}
	}
}

// ok and fails shorten case tables.
func ok(name, want string, e func(t testing.TB) Expr) scalarCase {
	return scalarCase{name: name, e: e, want: want}
}
func fails(name, msg string, e func(t testing.TB) Expr) scalarCase {
	return scalarCase{name: name, e: e, want: msg, wantErr: true}
}

func typesOf(ts ...arrow.DataType) []arrow.DataType { return ts }
