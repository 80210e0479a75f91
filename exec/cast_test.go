package exec

import (
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func cst(e Expr, to arrow.DataType) E { return func(t testing.TB) Expr { return castE(t, e, to) } }

func TestCast(t *testing.T) {
	d := Decimal(10, 2)
	runScalarCases(t, []scalarCase{
		ok("int to double", "3", cst(li(3), Float64)),
		ok("double to int half even", "2", cst(lf(2.5), Int64)),
		ok("double to int 3.5", "4", cst(lf(3.5), Int64)),
		ok("double to int negative", "-3", cst(lf(-2.6), Int64)),
		fails("double to int range", "bigint out of range", cst(lf(1e19), Int64)),
		fails("double NaN to int", "bigint out of range", cst(lf(math.NaN()), Int64)),
		ok("decimal to int half away", "3", cst(ldec("2.50", 4, 2), Int64)),
		ok("decimal to int negative", "-3", cst(ldec("-2.50", 4, 2), Int64)),
		ok("double to decimal", "1.24", cst(lf(1.235), d)),
		ok("decimal rescale up", "1.50", cst(ldec("1.5", 3, 1), d)),
		ok("decimal rescale down", "1.3", cst(ldec("1.25", 3, 2), Decimal(3, 1))),
		fails("decimal overflow", "numeric field overflow: 12345.6 does not fit DECIMAL(4,1)", cst(ldec("12345.6", 6, 1), Decimal(4, 1))),
		ok("int to decimal", "42.00", cst(li(42), d)),
		fails("int to decimal overflow", "numeric field overflow: 123456789 does not fit DECIMAL(10,2)", cst(li(123456789), d)),
		ok("decimal to double", "0.1", cst(ldec("0.10", 3, 2), Float64)),
		ok("text to int", "42", cst(ls(" 42 "), Int64)),
		fails("text to int bad", `invalid input syntax for type bigint: "abc"`, cst(ls("abc"), Int64)),
		fails("text to int frac", `invalid input syntax for type bigint: "1.5"`, cst(ls("1.5"), Int64)),
		fails("text to int range", `value "99999999999999999999" is out of range for type bigint`, cst(ls("99999999999999999999"), Int64)),
		ok("text to double", "-1500", cst(ls("-1.5e3"), Float64)),
		ok("text to double inf", "Infinity", cst(ls("infinity"), Float64)),
		fails("text to double bad", `invalid input syntax for type double precision: "x1"`, cst(ls("x1"), Float64)),
		ok("text to decimal", "3.14", cst(ls("3.14159"), d)),
		ok("text to decimal half away", "-0.13", cst(ls("-0.125"), d)),
		fails("text to decimal bad", `invalid input syntax for type numeric: "1.2.3"`, cst(ls("1.2.3"), d)),
		ok("text to bool t", "true", cst(ls("t"), Bool)),
		ok("text to bool off", "false", cst(ls(" OFF "), Bool)),
		ok("text to bool 1", "true", cst(ls("1"), Bool)),
		fails("text to bool bad", `invalid input syntax for type boolean: "maybe"`, cst(ls("maybe"), Bool)),
		ok("text to date", "2024-02-29", cst(ls("2024-02-29"), Date)),
		fails("text to date bad", `invalid input syntax for type date: "2024-02-30"`, cst(ls("2024-02-30"), Date)),
		ok("text to timestamp", "2024-02-29 10:11:12.5", cst(ls("2024-02-29 10:11:12.5"), Timestamp)),
		ok("text to interval", "01:30:00", cst(ls("90 minutes"), Interval)),
		ok("timestamp to date", "1969-12-31", cst(lts("1969-12-31 23:00:00"), Date)),
		ok("date to timestamp", "2024-02-29 00:00:00", cst(ldate("2024-02-29"), Timestamp)),
		ok("bigint to bool", "true", cst(li(-3), Bool)),
		ok("bool to bigint", "1", cst(lb(true), Int64)),
		ok("null to int", "NULL", cst(lnull(), Int64)),
		ok("null to text", "NULL", cst(lnull(), String)),
		ok("double to text", "1e+20", cst(lf(1e20), String)),
		ok("decimal to text", "-1.50", cst(ldec("-1.5", 4, 2), String)),
		ok("timestamp to text", "2024-01-02 03:04:05", cst(lts("2024-01-02 03:04:05"), String)),
		ok("bool to text", "false", cst(lb(false), String)),
		ok("interval to text", "1 day 01:00:00", cst(liv("25 hours"), String)),
		ok("text null to int", "NULL", cst(lit(nil, String), Int64)),
	})
	for _, c := range [][2]arrow.DataType{{Bool, Date}, {Date, Int64}, {Interval, Float64}, {Bool, Float64}, {Timestamp, Interval}} {
		_, err := NewCast(li(0), c[1])
		_ = err
		e := lit(nil, c[0])
		if _, err := NewCast(e, c[1]); err == nil || err.Error() != "cannot cast "+TypeName(c[0])+" to "+TypeName(c[1]) {
			t.Errorf("cast %s to %s: got %v", TypeName(c[0]), TypeName(c[1]), err)
		}
	}
	same := li(1)
	if e, _ := NewCast(same, Int64); e != same {
		t.Error("cast to the same type must return the expression unchanged")
	}
	if s := castE(t, col(0, Int64), Float64).String(); s != "CAST(#0 AS DOUBLE)" {
		t.Errorf("String() = %q", s)
	}
}
