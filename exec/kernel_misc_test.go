package exec

import "testing"

func TestNullFunctions(t *testing.T) {
	runScalarCases(t, []scalarCase{
		ok("coalesce first", "1", c1("coalesce", li(1), li(2))),
		ok("coalesce skips nulls", "2", c1("coalesce", lnull(), lit(nil, Int64), li(2))),
		ok("coalesce promotes", "2.5", c1("coalesce", lit(nil, Int64), lf(2.5))),
		ok("coalesce all null", "NULL", c1("coalesce", lnull(), lit(nil, String))),
		ok("coalesce strings", "x", c1("coalesce", lit(nil, String), ls("x"))),
		ok("ifnull", "0", c1("ifnull", lit(nil, Int64), li(0))),
		ok("nullif equal", "NULL", c1("nullif", li(1), li(1))),
		ok("nullif differs", "1", c1("nullif", li(1), li(2))),
		ok("nullif null second", "1", c1("nullif", li(1), lnull())),
		ok("nullif promotes", "NULL", c1("nullif", li(1), lf(1.0))),
	})
	if _, err := callE("coalesce", li(1), ls("a")); err == nil {
		t.Error("coalesce(BIGINT, VARCHAR) must not bind")
	}
	rec := recordOf(t, typesOf(Int64, Int64), []Datum{nil, int64(1), nil}, []Datum{int64(7), int64(8), nil})
	defer rec.Release()
	got, err := evalRows(t, call(t, "coalesce", col(0, Int64), col(1, Int64), li(-1)), rec)
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range []string{"7", "1", "-1"} {
		if got[i] != w {
			t.Errorf("row %d: got %s want %s", i, got[i], w)
		}
	}
}
