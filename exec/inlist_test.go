package exec

import (
	"strings"
	"testing"
)

func TestInList(t *testing.T) {
	x := col(0, Int64)
	rec := recordOf(t, typesOf(Int64), []Datum{int64(1), int64(2), nil})
	defer rec.Release()
	cases := []struct {
		list    []Expr
		negated bool
		want    string
	}{
		{[]Expr{li(1), li(3)}, false, "true,false,NULL"},
		{[]Expr{li(1), li(3)}, true, "false,true,NULL"},
		{[]Expr{li(1), lnull()}, false, "true,NULL,NULL"},
		{[]Expr{li(1), lnull()}, true, "false,NULL,NULL"},
		{[]Expr{lf(2.0)}, false, "false,true,NULL"},
		{[]Expr{call(t, "+", x, li(0))}, false, "true,true,NULL"},         // non-constant
		{[]Expr{call(t, "*", x, li(5)), lnull()}, true, "NULL,NULL,NULL"}, // non-constant with NULL
		{[]Expr{call(t, "*", x, li(1)), lnull()}, true, "false,false,NULL"},
		{[]Expr{ldec("2.00", 3, 2)}, false, "false,true,NULL"},
	}
	for _, c := range cases {
		e, err := NewInList(x, c.list, c.negated)
		if err != nil {
			t.Fatal(err)
		}
		got, err := evalRows(t, e, rec)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, ",") != c.want {
			t.Errorf("%s: got %v want %s", e, got, c.want)
		}
	}
	srec := recordOf(t, typesOf(String), []Datum{"a", "b", nil})
	defer srec.Release()
	e, err := NewInList(col(0, String), []Expr{ls("b"), ls("c")}, false)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := evalRows(t, e, srec); strings.Join(got, ",") != "false,true,NULL" {
		t.Errorf("strings: %v", got)
	}
	if e.String() != "(#0 IN ('b', 'c'))" {
		t.Errorf("String() = %q", e.String())
	}
	if _, err := NewInList(x, []Expr{ls("a")}, false); err == nil {
		t.Error("BIGINT IN (VARCHAR) must fail")
	}
	// Timestamp list against DATE values widens to TIMESTAMP.
	e, err = NewInList(ldate("2024-01-01"), []Expr{lts("2024-01-01 00:00:00")}, false)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := evalOne(t, e); got != "true" {
		t.Errorf("date in timestamps: %s", got)
	}
}
