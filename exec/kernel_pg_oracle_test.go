package exec

import (
	"context"
	"fmt"
	"math"
	"os"
	"strconv"

	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/jackc/pgx/v5"
)

// TestPostgresOracle evaluates a few hundred expressions over literals with our kernels and with
// PostgreSQL, and compares the text results (numbers compared by value, so 1.50 = 1.5 and float
// results may differ in the last ulp). An error on one side must be an error on the other. It is
// skipped when the server is unreachable, unless CI=true.

const oracleDSN = "postgres://postgres@127.0.0.1:5432/test"

type oracleCase struct {
	pg    string
	build func(t testing.TB) Expr
}

func oracleCases(t *testing.T) []oracleCase {
	var cs []oracleCase
	add := func(pg string, b func(t testing.TB) Expr) { cs = append(cs, oracleCase{pg, b}) }

	// BIGINT arithmetic, including overflow and division by zero.
	ints := []int64{0, 7, -7, 3, math.MaxInt64, -math.MaxInt64}
	for _, op := range []string{"+", "-", "*", "/", "%"} {
		for _, a := range ints {
			for _, b := range ints {
				add(fmt.Sprintf("(%d::bigint %s %d::bigint)", a, op, b), c2(op, li(a), li(b)))
			}
		}
	}
	// DOUBLE arithmetic.
	floats := []float64{2.5, -1.25, 0, 3, 1e20, 0.1}
	for _, op := range []string{"+", "-", "*", "/"} {
		for _, a := range floats {
			for _, b := range floats {
				add(fmt.Sprintf("(%s::float8 %s %s::float8)", FormatFloat(a), op, FormatFloat(b)), c2(op, lf(a), lf(b)))
			}
		}
	}
	// DECIMAL arithmetic (exact) and mixing with BIGINT.
	type dec struct {
		s    string
		p, c int32
	}
	decs := []dec{{"1.50", 3, 2}, {"-2.125", 4, 3}, {"0", 1, 0}, {"100", 3, 0}, {"0.001", 3, 3}}
	for _, op := range []string{"+", "-", "*", "%"} {
		for _, a := range decs {
			for _, b := range decs {
				add(fmt.Sprintf("('%s'::numeric(%d,%d) %s '%s'::numeric(%d,%d))", a.s, a.p, a.c, op, b.s, b.p, b.c),
					c2(op, ldec(a.s, a.p, a.c), ldec(b.s, b.p, b.c)))
			}
			add(fmt.Sprintf("('%s'::numeric(%d,%d) %s 7::bigint)", a.s, a.p, a.c, op), c2(op, ldec(a.s, a.p, a.c), li(7)))
		}
	}
	// Casts from text.
	texts := []string{" 42 ", "abc", "-0", "1.5", "1e3", "t", "off", "2024-02-29", "2024-02-29 13:45:10.5", " 3.14159 ", "-9223372036854775808", "yes", "1999-12-31T23:59:59"}
	targets := []struct {
		pg string
		t  arrow.DataType
	}{{"bigint", Int64}, {"float8", Float64}, {"numeric(10,2)", Decimal(10, 2)}, {"boolean", Bool}, {"date", Date}, {"timestamp", Timestamp}}
	for _, s := range texts {
		for _, tg := range targets {
			add(fmt.Sprintf("'%s'::%s", s, tg.pg), cst(ls(s), tg.t))
		}
	}
	for _, f := range []float64{2.5, 3.5, -2.5, -0.4, 1e19, 123.456} {
		add(fmt.Sprintf("%s::float8::bigint", FormatFloat(f)), cst(lf(f), Int64))
		add(fmt.Sprintf("%s::float8::numeric(10,2)", FormatFloat(f)), cst(lf(f), Decimal(10, 2)))
	}
	for _, d := range decs {
		add(fmt.Sprintf("'%s'::numeric(%d,%d)::bigint", d.s, d.p, d.c), cst(ldec(d.s, d.p, d.c), Int64))
		add(fmt.Sprintf("'%s'::numeric(%d,%d)::float8", d.s, d.p, d.c), cst(ldec(d.s, d.p, d.c), Float64))
	}
	add("'2024-02-29 13:45:10'::timestamp::date", cst(lts("2024-02-29 13:45:10"), Date))
	add("'2024-02-29'::date::timestamp", cst(ldate("2024-02-29"), Timestamp))

	// String functions.
	strs := []string{"Hello World", "  padded  ", "héllo", ""}
	for _, s := range strs {
		q := "'" + s + "'"
		add("lower("+q+")", c1("lower", ls(s)))
		add("upper("+q+")", c1("upper", ls(s)))
		add("length("+q+")", c1("length", ls(s)))
		add("reverse("+q+")", c1("reverse", ls(s)))
		add("trim("+q+")", c1("trim", ls(s)))
		add("ltrim("+q+")", c1("ltrim", ls(s)))
		add("rtrim("+q+")", c1("rtrim", ls(s)))
		add("replace("+q+", 'l', 'L')", c1("replace", ls(s), ls("l"), ls("L")))
		add("strpos("+q+", 'l')", c1("strpos", ls(s), ls("l")))
		add("lpad("+q+", 8, '*')", c1("lpad", ls(s), li(8), ls("*")))
		add("rpad("+q+", 8)", c1("rpad", ls(s), li(8)))
		add("concat("+q+", NULL, 1, 2.5::float8)", c1("concat", ls(s), lnull(), li(1), lf(2.5)))
		add("("+q+" || 'x')", c2("||", ls(s), ls("x")))
		for _, n := range []int64{-3, 0, 2, 20} {
			add(fmt.Sprintf("left(%s, %d)", q, n), c1("left", ls(s), li(n)))
			add(fmt.Sprintf("right(%s, %d)", q, n), c1("right", ls(s), li(n)))
			add(fmt.Sprintf("substring(%s, %d)", q, n), c1("substring", ls(s), li(n)))
			for _, l := range []int64{0, 3, 100} {
				add(fmt.Sprintf("substring(%s, %d, %d)", q, n, l), c1("substring", ls(s), li(n), li(l)))
			}
		}
	}
	// LIKE / ILIKE.
	for _, s := range []string{"hello", "HeLLo", "a%b", "a_b", ""} {
		for _, p := range []string{"h%", "%l_o", "%", "_", `a\%b`, `a\_b`, "hello", "%LL%"} {
			add(fmt.Sprintf("('%s' LIKE '%s')", s, p), c2("like", ls(s), ls(p)))
			add(fmt.Sprintf("('%s' ILIKE '%s')", s, p), c2("ilike", ls(s), ls(p)))
		}
	}
	add("(NULL::text LIKE 'a')", c2("like", lit(nil, String), ls("a")))

	// Math.
	for _, f := range []float64{2.4, -2.6, 0.5, 9, 1e-3} {
		x := FormatFloat(f) + "::float8"
		add("abs("+x+")", c1("abs", lf(f)))
		add("floor("+x+")", c1("floor", lf(f)))
		add("ceil("+x+")", c1("ceil", lf(f)))
		add("sign("+x+")", c1("sign", lf(f)))
		add("sqrt("+x+")", c1("sqrt", lf(f)))
		add("ln("+x+")", c1("ln", lf(f)))
		add("log10("+x+")", c1("log10", lf(f)))
		add("exp("+x+")", c1("exp", lf(f)))
		add("power("+x+", 3::float8)", c1("power", lf(f), lf(3)))
		add("power("+x+", 0.5::float8)", c1("power", lf(f), lf(0.5)))
	}
	for _, d := range []dec{{"2.455", 6, 3}, {"-2.455", 6, 3}, {"2.5", 3, 1}, {"-0.5", 3, 1}, {"1234.5678", 8, 4}} {
		x := fmt.Sprintf("'%s'::numeric(%d,%d)", d.s, d.p, d.c)
		add("round("+x+")", c1("round", ldec(d.s, d.p, d.c)))
		for _, n := range []int64{-2, 0, 1, 2} {
			add(fmt.Sprintf("round(%s, %d)", x, n), c1("round", ldec(d.s, d.p, d.c), li(n)))
		}
		add("floor("+x+")", c1("floor", ldec(d.s, d.p, d.c)))
		add("ceil("+x+")", c1("ceil", ldec(d.s, d.p, d.c)))
		add("abs("+x+")", c1("abs", ldec(d.s, d.p, d.c)))
	}
	for _, a := range []int64{10, -10, 7} {
		add(fmt.Sprintf("mod(%d::bigint, 3::bigint)", a), c1("mod", li(a), li(3)))
		add(fmt.Sprintf("abs(%d::bigint)", a), c1("abs", li(a)))
	}
	add("greatest(1, 5, NULL, 3)", c1("greatest", li(1), li(5), lnull(), li(3)))
	add("least(1.5::float8, 5, -3)", c1("least", lf(1.5), li(5), li(-3)))
	add("sqrt(-1::float8)", c1("sqrt", lf(-1)))
	add("ln(0::float8)", c1("ln", lf(0)))

	// Date/time.
	tss := []string{"2024-02-29 13:45:10.123456", "1969-12-31 23:59:59", "2023-01-01 00:00:00", "2021-01-03 05:06:07"}
	for _, s := range tss {
		ts := "timestamp '" + s + "'"
		for _, u := range []string{"microseconds", "milliseconds", "second", "minute", "hour", "day", "week", "month", "quarter", "year", "decade", "century"} {
			add(fmt.Sprintf("date_trunc('%s', %s)", u, ts), c1("date_trunc", ls(u), lts(s)))
		}
		for _, u := range []string{"year", "quarter", "month", "week", "day", "dow", "isodow", "doy", "hour", "minute", "second", "millisecond", "microsecond", "epoch"} {
			add(fmt.Sprintf("extract(%s from %s)::float8", u, ts), c1("extract", ls(u), lts(s)))
		}
		add(fmt.Sprintf("(%s + interval '90 minutes')", ts), c2("+", lts(s), liv("90 minutes")))
		add(fmt.Sprintf("(%s - interval '2 days')", ts), c2("-", lts(s), liv("2 days")))
		add(fmt.Sprintf("%s::date", ts), cst(lts(s), Date))
	}
	add("(date '2024-03-01' - date '2024-02-01')", c2("-", ldate("2024-03-01"), ldate("2024-02-01")))
	add("(date '2024-02-28' + 2)", c2("+", ldate("2024-02-28"), li(2)))
	add("(date '2024-02-28' + interval '6 hours')", c2("+", ldate("2024-02-28"), liv("6 hours")))
	add("to_timestamp(1234567890.5)::timestamp", c1("to_timestamp", lf(1234567890.5)))

	// NULL handling, CASE, IN.
	add("coalesce(NULL, NULL::bigint, 2, 3)", c1("coalesce", lnull(), lit(nil, Int64), li(2), li(3)))
	add("coalesce(NULL::text, 'x')", c1("coalesce", lit(nil, String), ls("x")))
	add("coalesce(NULL::bigint, 2.5::float8)", c1("coalesce", lit(nil, Int64), lf(2.5)))
	add("nullif(1, 1)", c1("nullif", li(1), li(1)))
	add("nullif(1, 2)", c1("nullif", li(1), li(2)))
	add("nullif('a', NULL)", c1("nullif", ls("a"), lnull()))
	caseOf := func(operand Expr, whens, thens []Expr, els Expr) func(t testing.TB) Expr {
		return func(t testing.TB) Expr {
			e, err := NewCase(operand, whens, thens, els)
			if err != nil {
				t.Fatal(err)
			}
			return e
		}
	}
	for _, x := range []int64{0, 1, 2, 5} {
		xe := li(x)
		add(fmt.Sprintf("CASE WHEN %d = 0 THEN 0 ELSE 10 / %d END", x, x),
			caseOf(nil, []Expr{call(t, "=", xe, li(0))}, []Expr{li(0)}, call(t, "/", li(10), xe)))
		add(fmt.Sprintf("CASE %d WHEN 1 THEN 'one' WHEN 2 THEN 'two' END", x),
			caseOf(xe, []Expr{li(1), li(2)}, []Expr{ls("one"), ls("two")}, nil))
		add(fmt.Sprintf("CASE WHEN %d > 1 THEN 1.5::float8 WHEN %d > 0 THEN 1 ELSE NULL END", x, x),
			caseOf(nil, []Expr{call(t, ">", xe, li(1)), call(t, ">", xe, li(0))}, []Expr{lf(1.5), li(1)}, lnull()))
	}
	inOf := func(x Expr, list []Expr, neg bool) func(t testing.TB) Expr {
		return func(t testing.TB) Expr {
			e, err := NewInList(x, list, neg)
			if err != nil {
				t.Fatal(err)
			}
			return e
		}
	}
	for _, x := range []string{"1", "3", "NULL"} {
		xe := lnull()
		if x != "NULL" {
			v, _ := strconv.ParseInt(x, 10, 64)
			xe = li(v)
		}
		for _, neg := range []bool{false, true} {
			not := ""
			if neg {
				not = "NOT "
			}
			add(fmt.Sprintf("(%s::bigint %sIN (1, 2))", x, not), inOf(castE(t, xe, Int64), []Expr{li(1), li(2)}, neg))
			add(fmt.Sprintf("(%s::bigint %sIN (1, NULL))", x, not), inOf(castE(t, xe, Int64), []Expr{li(1), lnull()}, neg))
			add(fmt.Sprintf("(%s::bigint %sIN (1.0::float8, 3.5::float8))", x, not), inOf(castE(t, xe, Int64), []Expr{lf(1), lf(3.5)}, neg))
		}
	}
	return cs
}

// sameValue compares our text with PostgreSQL's: numbers by value (floats to 1e-12 relative),
// everything else exactly.
func sameValue(ours, pg string) bool {
	if ours == pg {
		return true
	}
	a, e1 := strconv.ParseFloat(ours, 64)
	b, e2 := strconv.ParseFloat(pg, 64)
	if e1 != nil || e2 != nil {
		return false
	}
	if a == b {
		return true
	}
	return math.Abs(a-b) <= 1e-12*math.Max(math.Abs(a), math.Abs(b))
}

func TestPostgresOracle(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, oracleDSN)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL oracle unreachable at %s: %v", oracleDSN, err)
		}
		t.Skipf("PostgreSQL oracle unreachable at %s: %v", oracleDSN, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "SET TIME ZONE 'UTC'"); err != nil {
		t.Fatal(err)
	}
	cases := oracleCases(t)
	mismatches, bothFail := 0, 0
	for _, c := range cases {
		var pgVal *string
		pgErr := conn.QueryRow(ctx, "SELECT ("+c.pg+")::text").Scan(&pgVal)
		e, bindErr := func() (e Expr, err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("panic: %v", r)
				}
			}()
			return c.build(t), nil
		}()
		if bindErr != nil {
			t.Errorf("%s: build: %v", c.pg, bindErr)
			continue
		}
		ours, ourErr := evalOne(t, e)
		pgText := "NULL"
		if pgVal != nil {
			pgText = *pgVal
		}
		switch {
		case pgErr != nil && ourErr != nil:
			bothFail++
		case pgErr != nil:
			t.Errorf("%s: PostgreSQL fails (%v) but we return %q", c.pg, pgErr, ours)
			mismatches++
		case ourErr != nil:
			t.Errorf("%s: PostgreSQL returns %q but we fail: %v", c.pg, pgText, ourErr)
			mismatches++
		case !sameValue(ours, pgText):
			t.Errorf("%s: ours %q, PostgreSQL %q", c.pg, ours, pgText)
			mismatches++
		}
	}
	t.Logf("%d expressions compared with PostgreSQL (%d fail on both sides), %d mismatches", len(cases), bothFail, mismatches)
	if bothFail > len(cases)/4 {
		t.Errorf("%d of %d expressions fail on both sides: the oracle is not exercising the kernels", bothFail, len(cases))
	}
}
