package exec

import "testing"

func TestThreeValuedLogic(t *testing.T) {
	vals := []Expr{lb(true), lb(false), lit(nil, Bool)}
	name := []string{"true", "false", "NULL"}
	// Expected tables indexed [x][y], from the SQL standard.
	and := [3][3]string{{"true", "false", "NULL"}, {"false", "false", "false"}, {"NULL", "false", "NULL"}}
	or := [3][3]string{{"true", "true", "true"}, {"true", "false", "NULL"}, {"true", "NULL", "NULL"}}
	var cases []scalarCase
	for i := range vals {
		for j := range vals {
			cases = append(cases, ok(name[i]+" and "+name[j], and[i][j], c2("and", vals[i], vals[j])))
			cases = append(cases, ok(name[i]+" or "+name[j], or[i][j], c2("or", vals[i], vals[j])))
		}
	}
	not := []string{"false", "true", "NULL"}
	isTrue := []string{"true", "false", "false"}
	isFalse := []string{"false", "true", "false"}
	isNotTrue := []string{"false", "true", "true"}
	isNotFalse := []string{"true", "false", "true"}
	isNull := []string{"false", "false", "true"}
	isNotNull := []string{"true", "true", "false"}
	for i := range vals {
		cases = append(cases,
			ok("not "+name[i], not[i], c1("not", vals[i])),
			ok("is_true "+name[i], isTrue[i], c1("is_true", vals[i])),
			ok("is_false "+name[i], isFalse[i], c1("is_false", vals[i])),
			ok("is_not_true "+name[i], isNotTrue[i], c1("is_not_true", vals[i])),
			ok("is_not_false "+name[i], isNotFalse[i], c1("is_not_false", vals[i])),
			ok("is_null "+name[i], isNull[i], c1("is_null", vals[i])),
			ok("is_not_null "+name[i], isNotNull[i], c1("is_not_null", vals[i])),
		)
	}
	cases = append(cases,
		ok("and with untyped null", "false", c2("and", lnull(), lb(false))),
		ok("is_null of int", "false", c1("is_null", li(3))),
		ok("is_null of untyped null", "true", c1("is_null", lnull())),
	)
	runScalarCases(t, cases)
	if _, err := callE("and", li(1), lb(true)); err == nil {
		t.Error("AND of BIGINT must not bind")
	}
}
