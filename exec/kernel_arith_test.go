package exec

import (
	"math"
	"testing"
)

type E = func(t testing.TB) Expr

func c2(name string, a, b Expr) E { return func(t testing.TB) Expr { return call(t, name, a, b) } }
func c1(name string, a ...Expr) E { return func(t testing.TB) Expr { return call(t, name, a...) } }

func TestArithmetic(t *testing.T) {
	runScalarCases(t, []scalarCase{
		ok("int add", "5", c2("+", li(2), li(3))),
		ok("int sub", "-1", c2("-", li(2), li(3))),
		ok("int mul", "-6", c2("*", li(2), li(-3))),
		ok("int div truncates", "-2", c2("/", li(-7), li(3))),
		ok("int mod sign of dividend", "-1", c2("%", li(-7), li(3))),
		ok("mod by -1", "0", c2("%", li(math.MinInt64), li(-1))),
		ok("null operand", "NULL", c2("+", li(1), lnull())),
		fails("int overflow add", "bigint out of range", c2("+", li(math.MaxInt64), li(1))),
		fails("int overflow mul", "bigint out of range", c2("*", li(math.MaxInt64/2), li(3))),
		fails("minint / -1", "bigint out of range", c2("/", li(math.MinInt64), li(-1))),
		fails("int div zero", "division by zero", c2("/", li(1), li(0))),
		fails("int mod zero", "division by zero", c2("%", li(1), li(0))),
		fails("double div zero", "division by zero", c2("/", lf(1), lf(0))),
		ok("double", "0.75", c2("/", lf(3), lf(4))),
		ok("int + double", "3.5", c2("+", li(3), lf(0.5))),
		ok("double mod", "1.5", c2("%", lf(7.5), lf(3))),
		ok("decimal add", "3.625", c2("+", ldec("1.5", 4, 2), ldec("2.125", 5, 3))),
		ok("decimal sub", "-0.625", c2("-", ldec("1.5", 4, 2), ldec("2.125", 5, 3))),
		ok("decimal mul", "3.18750", c2("*", ldec("1.5", 4, 2), ldec("2.125", 5, 3))),
		ok("decimal div", "0.3333333333333333", c2("/", ldec("1", 3, 0), ldec("3", 3, 0))),
		ok("decimal div rounds half away", "-0.6666666666666667", c2("/", ldec("-2", 3, 0), ldec("3", 3, 0))),
		ok("decimal mod", "1.0", c2("%", ldec("7.0", 3, 1), ldec("3", 3, 0))),
		ok("decimal + bigint", "11.50", c2("+", ldec("1.5", 4, 2), li(10))),
		ok("decimal + double", "2", c2("+", ldec("1.5", 4, 2), lf(0.5))),
		fails("decimal div zero", "division by zero", c2("/", ldec("1", 3, 0), ldec("0", 3, 0))),
		fails("decimal overflow", "numeric field overflow: 99999999999999999999999999999999999999 * 10 does not fit DECIMAL(38,0)",
			c2("*", ldec("99999999999999999999999999999999999999", 38, 0), ldec("10", 2, 0))),
		ok("neg int", "-5", c1("neg", li(5))),
		ok("neg decimal", "-1.50", c1("neg", ldec("1.5", 4, 2))),
		fails("neg minint", "bigint out of range", c1("neg", li(math.MinInt64))),
		ok("ts + interval", "2024-01-01 01:30:00", c2("+", lts("2024-01-01 00:00:00"), liv("90 minutes"))),
		ok("interval + ts", "2024-01-01 01:30:00", c2("+", liv("90 minutes"), lts("2024-01-01 00:00:00"))),
		ok("ts - interval", "2023-12-31 23:00:00", c2("-", lts("2024-01-01 00:00:00"), liv("1 hour"))),
		ok("ts - ts", "1 day 01:00:00", c2("-", lts("2024-01-02 01:00:00"), lts("2024-01-01 00:00:00"))),
		ok("interval + interval", "01:30:00", c2("+", liv("1 hour"), liv("30 minutes"))),
		ok("interval * int", "03:00:00", c2("*", liv("1 hour"), li(3))),
		ok("double * interval", "00:30:00", c2("*", lf(0.5), liv("1 hour"))),
		ok("interval / int", "00:20:00", c2("/", liv("1 hour"), li(3))),
		ok("date + int", "2024-03-01", c2("+", ldate("2024-02-28"), li(2))),
		ok("int + date", "2024-03-01", c2("+", li(2), ldate("2024-02-28"))),
		ok("date - int", "2024-02-27", c2("-", ldate("2024-02-28"), li(1))),
		ok("date - date", "366", c2("-", ldate("2025-01-01"), ldate("2024-01-01"))),
		ok("date + interval", "2024-02-28 06:00:00", c2("+", ldate("2024-02-28"), liv("6 hours"))),
		ok("date - interval", "2024-02-27 18:00:00", c2("-", ldate("2024-02-28"), liv("6 hours"))),
		ok("concat op", "ab", c2("||", ls("a"), ls("b"))),
		ok("concat op formats", "x1.5", c2("||", ls("x"), lf(1.5))),
		ok("concat op null", "NULL", c2("||", ls("x"), lnull())),
	})
	for _, bad := range [][2]Expr{{lb(true), li(1)}, {ls("a"), li(1)}, {lts("2024-01-01"), lts("2024-01-01")}} {
		if _, err := callE("+", bad[0], bad[1]); err == nil {
			t.Errorf("%s + %s: expected a bind error", TypeName(bad[0].Type()), TypeName(bad[1].Type()))
		}
	}
}

// TestArithmeticColumns checks the vectorized path with NULLs in the middle of columns and that
// an error in one row fails the call.
func TestArithmeticColumns(t *testing.T) {
	rec := recordOf(t, typesOf(Int64, Int64), []Datum{int64(1), nil, int64(-9), int64(4)}, []Datum{int64(2), int64(5), nil, int64(-2)})
	defer rec.Release()
	got, err := evalRows(t, call(t, "*", col(0, Int64), col(1, Int64)), rec)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"2", "NULL", "NULL", "-8"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: got %s want %s", i, got[i], want[i])
		}
	}
	rec2 := recordOf(t, typesOf(Int64), []Datum{int64(1), int64(0)})
	defer rec2.Release()
	if _, err := evalRows(t, call(t, "/", li(1), col(0, Int64)), rec2); err == nil || err.Error() != "division by zero" {
		t.Errorf("expected division by zero, got %v", err)
	}
}
