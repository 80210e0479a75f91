package exec

import (
	"math"
	"testing"
)

func TestMathFunctions(t *testing.T) {
	runScalarCases(t, []scalarCase{
		ok("abs int", "5", c1("abs", li(-5))),
		ok("abs double", "2.5", c1("abs", lf(-2.5))),
		ok("abs decimal", "1.50", c1("abs", ldec("-1.5", 4, 2))),
		fails("abs minint", "bigint out of range", c1("abs", li(math.MinInt64))),
		ok("round double half to even (PostgreSQL rint)", "2", c1("round", lf(2.5))),
		ok("round double negative half to even", "-2", c1("round", lf(-2.5))),
		ok("round double 3.5 to even", "4", c1("round", lf(3.5))),
		ok("round double digits", "2.68", c1("round", lf(2.675), li(2))),
		ok("round double negative digits", "1200", c1("round", lf(1234.5), li(-2))),
		ok("round bigint", "7", c1("round", li(7))),
		ok("round bigint -1", "-20", c1("round", li(-15), li(-1))),
		ok("round decimal", "3", c1("round", ldec("2.50", 4, 2))),
		ok("round decimal digits keeps scale", "2.460", c1("round", ldec("2.455", 6, 3), li(2))),
		ok("round decimal negative", "-2.460", c1("round", ldec("-2.455", 6, 3), li(2))),
		ok("floor double", "-3", c1("floor", lf(-2.5))),
		ok("ceil double", "-2", c1("ceil", lf(-2.5))),
		ok("ceiling decimal", "3", c1("ceiling", ldec("2.01", 4, 2))),
		ok("floor decimal negative", "-3", c1("floor", ldec("-2.01", 4, 2))),
		ok("floor bigint", "4", c1("floor", li(4))),
		ok("mod", "1", c1("mod", li(10), li(3))),
		fails("mod zero", "division by zero", c1("mod", li(10), li(0))),
		ok("power", "1024", c1("power", li(2), li(10))),
		ok("pow", "0.5", c1("pow", lf(2), lf(-1))),
		fails("power 0^-1", "zero raised to a negative power is undefined", c1("power", lf(0), lf(-1))),
		fails("power complex", "a negative number raised to a non-integer power yields a complex result", c1("power", lf(-8), lf(0.5))),
		ok("sqrt", "3", c1("sqrt", li(9))),
		fails("sqrt negative", "cannot take square root of a negative number", c1("sqrt", lf(-1))),
		ok("ln", "1", c1("ln", lf(math.E))),
		fails("ln 0", "cannot take logarithm of zero", c1("ln", lf(0))),
		fails("log10 negative", "cannot take logarithm of a negative number", c1("log10", lf(-1))),
		ok("log10", "3", c1("log10", li(1000))),
		ok("exp", "1", c1("exp", li(0))),
		fails("exp overflow", "value out of range: overflow", c1("exp", lf(1000))),
		ok("sign int", "-1", c1("sign", li(-9))),
		ok("sign double", "0", c1("sign", lf(0))),
		ok("sign decimal", "1", c1("sign", ldec("0.01", 3, 2))),
		ok("greatest", "9", c1("greatest", li(3), li(9), lnull(), li(-1))),
		ok("greatest mixed", "9.5", c1("greatest", li(3), lf(9.5))),
		ok("least", "-1", c1("least", li(3), li(9), lnull(), li(-1))),
		ok("least strings", "apple", c1("least", ls("pear"), ls("apple"))),
		ok("greatest all null", "NULL", c1("greatest", lit(nil, Int64), lnull())),
		ok("sqrt null", "NULL", c1("sqrt", lnull())),
	})
}

func TestRoundFloatIsHalfAwayOnDecimalText(t *testing.T) {
	for _, c := range []struct {
		x    float64
		d    int64
		want float64
	}{{0.125, 2, 0.13}, {-0.125, 2, -0.13}, {1.005, 2, 1.01}, {123.456, 0, 123}, {1e300, 2, 1e300}, {0.1 + 0.2, 1, 0.3}} {
		if got := roundFloat(c.x, c.d); got != c.want {
			t.Errorf("roundFloat(%v, %d) = %v, want %v", c.x, c.d, got, c.want)
		}
	}
}
