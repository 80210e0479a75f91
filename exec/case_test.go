package exec

import (
	"strings"
	"testing"
)

func TestCaseSearchedSkipsErrorsInUntakenBranches(t *testing.T) {
	x := col(0, Int64)
	// CASE WHEN x = 0 THEN 0 ELSE 10 / x END
	e, err := NewCase(nil, []Expr{call(t, "=", x, li(0))}, []Expr{li(0)}, call(t, "/", li(10), x))
	if err != nil {
		t.Fatal(err)
	}
	rec := recordOf(t, typesOf(Int64), []Datum{int64(0), int64(5), nil, int64(-2), int64(0)})
	defer rec.Release()
	got, err := evalRows(t, e, rec)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "0,2,NULL,-5,0" {
		t.Errorf("got %v", got)
	}
	if e.String() != "CASE WHEN (#0 = 0) THEN 0 ELSE (10 / #0) END" {
		t.Errorf("String() = %q", e.String())
	}
}

func TestCaseForms(t *testing.T) {
	x := col(0, Int64)
	rec := recordOf(t, typesOf(Int64), []Datum{int64(1), int64(2), int64(3), nil})
	defer rec.Release()
	check := func(name string, e Expr, err error, want string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := evalRows(t, e, rec)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.Join(got, ",") != want {
			t.Errorf("%s: got %v want %s", name, got, want)
		}
	}
	// Simple CASE with promotion of the result to DOUBLE and no ELSE.
	e, err := NewCase(x, []Expr{li(1), lf(2.0)}, []Expr{ls("one"), ls("two")}, nil)
	check("simple", e, err, "one,two,NULL,NULL")
	e, err = NewCase(x, []Expr{li(1), lnull()}, []Expr{li(10), li(20)}, lf(0.5))
	check("simple null when never matches", e, err, "10,0.5,0.5,0.5")
	e, err = NewCase(nil, []Expr{call(t, ">", x, li(1)), call(t, ">", x, li(0))}, []Expr{x, lf(-1)}, nil)
	check("searched first match wins, common type", e, err, "-1,2,3,NULL")
	e, err = NewCase(nil, []Expr{lit(nil, Bool)}, []Expr{li(1)}, li(2))
	check("NULL condition is not true", e, err, "2,2,2,2")
	if e.Type().ID() != Int64.ID() {
		t.Errorf("type %s", TypeName(e.Type()))
	}
	if _, err := NewCase(nil, []Expr{lb(true)}, []Expr{li(1)}, ls("x")); err == nil || err.Error() != "CASE types BIGINT and VARCHAR cannot be matched" {
		t.Errorf("got %v", err)
	}
	if _, err := NewCase(nil, []Expr{li(1)}, []Expr{li(1)}, nil); err == nil {
		t.Error("non-boolean WHEN must fail")
	}
	// An error in a taken branch is reported.
	e, _ = NewCase(nil, []Expr{lb(true)}, []Expr{call(t, "/", li(1), li(0))}, nil)
	if _, err := evalRows(t, e, rec); err == nil || err.Error() != "division by zero" {
		t.Errorf("got %v", err)
	}
}
