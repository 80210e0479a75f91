package exec

import (
	"strings"
	"testing"
)

// TestCoalesceIsLazy: each argument runs only on the rows every earlier one left NULL, so
// COALESCE(x, 10 / y, -1) does not divide by the zero y of rows whose x is set, and a NULL from
// the second argument falls through to the third.
func TestCoalesceIsLazy(t *testing.T) {
	x, y := col(0, Int64), col(1, Int64)
	e, err := NewCoalesce([]Expr{x, call(t, "/", li(10), y), li(-1)}, Int64)
	if err != nil {
		t.Fatal(err)
	}
	rec := recordOf(t, typesOf(Int64, Int64),
		[]Datum{int64(1), nil, int64(3), nil, nil},
		[]Datum{int64(0), int64(5), int64(0), nil, int64(-2)})
	defer rec.Release()
	got, err := evalRows(t, e, rec)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "1,2,3,-1,-5" {
		t.Errorf("got %v", got)
	}
	// A row that reaches the division still fails.
	bad := recordOf(t, typesOf(Int64, Int64), []Datum{nil}, []Datum{int64(0)})
	defer bad.Release()
	if _, err := evalRows(t, e, bad); err == nil || !strings.Contains(err.Error(), "division by zero") {
		t.Errorf("want division by zero, got %v", err)
	}
	// The type is promoted: COALESCE(BIGINT, DOUBLE).
	f, err := NewCoalesce([]Expr{x, lf(0.5)}, Float64)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := evalRows(t, f, rec); err != nil || strings.Join(got, ",") != "1,0.5,3,0.5,0.5" {
		t.Errorf("promoted: %v %v", got, err)
	}
}
