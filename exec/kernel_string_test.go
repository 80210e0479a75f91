package exec

import "testing"

func TestStringFunctions(t *testing.T) {
	runScalarCases(t, []scalarCase{
		ok("lower", "abc é", c1("lower", ls("ABC É"))),
		ok("upper", "ABC É", c1("upper", ls("abc é"))),
		ok("length counts characters", "4", c1("length", ls("héé!"))),
		ok("length null", "NULL", c1("length", lit(nil, String))),
		ok("substring", "ell", c1("substring", ls("hello"), li(2), li(3))),
		ok("substring to end", "llo", c1("substring", ls("hello"), li(3))),
		ok("substring start 0", "he", c1("substring", ls("hello"), li(0), li(3))),
		ok("substring start -2", "", c1("substring", ls("hello"), li(-2), li(3))),
		ok("substring past end", "", c1("substring", ls("hello"), li(9), li(3))),
		ok("substring runes", "éé", c1("substring", ls("héé!"), li(2), li(2))),
		fails("substring negative length", "negative substring length not allowed: -1", c1("substring", ls("hello"), li(1), li(-1))),
		ok("concat skips nulls", "a1b", c1("concat", ls("a"), lnull(), li(1), ls("b"))),
		ok("concat all null", "", c1("concat", lnull())),
		ok("concat_ws", "a-1.5", c1("concat_ws", ls("-"), ls("a"), lnull(), lf(1.5))),
		ok("trim", "a b", c1("trim", ls("  a b \t"))),
		ok("ltrim", "a ", c1("ltrim", ls("  a "))),
		ok("rtrim", "  a", c1("rtrim", ls("  a "))),
		ok("trim chars", "abc", c1("trim", ls("xxabcxy"), ls("xy"))),
		ok("replace", "a--c--", c1("replace", ls("abcb"), ls("b"), ls("--"))),
		ok("replace empty from", "abc", c1("replace", ls("abc"), ls(""), ls("x"))),
		ok("split", `["a","b",""]`, c1("split", ls("a,b,"), ls(","))),
		ok("split null", "NULL", c1("split", lit(nil, String), ls(","))),
		ok("regexp_extract group 1", "123", c1("regexp_extract", ls("abc123def"), ls(`([0-9]+)`))),
		ok("regexp_extract group 0", "c1", c1("regexp_extract", ls("abc123"), ls(`c([0-9])`), li(0))),
		ok("regexp_extract no match", "", c1("regexp_extract", ls("abc"), ls(`([0-9]+)`))),
		fails("regexp_extract bad group", `regexp_extract: group 2 does not exist in pattern "([0-9]+)" (it has 1)`, c1("regexp_extract", ls("a1"), ls(`([0-9]+)`), li(2))),
		ok("starts_with", "true", c1("starts_with", ls("hello"), ls("he"))),
		ok("ends_with", "false", c1("ends_with", ls("hello"), ls("he"))),
		ok("left", "he", c1("left", ls("hello"), li(2))),
		ok("left negative", "hel", c1("left", ls("hello"), li(-2))),
		ok("right", "lo", c1("right", ls("hello"), li(2))),
		ok("right negative", "llo", c1("right", ls("hello"), li(-2))),
		ok("reverse", "!éh", c1("reverse", ls("hé!"))),
		ok("lpad", "xyxhi", c1("lpad", ls("hi"), li(5), ls("xy"))),
		ok("rpad truncates", "hel", c1("rpad", ls("hello"), li(3))),
		ok("rpad spaces", "hi   ", c1("rpad", ls("hi"), li(5))),
		ok("strpos", "3", c1("strpos", ls("héllo"), ls("l"))),
		ok("position", "0", c1("position", ls("z"), ls("hello"))),
		ok("regexp_like", "true", c1("regexp_like", ls("abc123"), ls(`^[a-c]+\d+$`))),
		fails("regexp bad", "invalid regular expression \"(\": error parsing regexp: missing closing ): `(`", c1("regexp_like", ls("a"), ls("("))),
	})
}

func TestLike(t *testing.T) {
	type lk struct {
		s, p string
		want bool
	}
	cases := []lk{
		{"hello", "hello", true}, {"hello", "hell", false}, {"hello", "h%", true}, {"hello", "%lo", true},
		{"hello", "%ell%", true}, {"hello", "%x%", false}, {"hello", "h_llo", true}, {"hello", "h_lo", false},
		{"hello", "%", true}, {"", "%", true}, {"", "_", false}, {"a%b", `a\%b`, true}, {"axb", `a\%b`, false},
		{"a_b", `a\_b`, true}, {"a.b", "a.b", true}, {"axb", "a.b", false}, {"line1\nline2", "line1%", true},
		{"héllo", "h_llo", true}, {"abc", "a%%c", true}, {"abcabc", "%b%b%", true}, {"(x)", "(%)", true},
	}
	var sc []scalarCase
	for _, c := range cases {
		want := "false"
		if c.want {
			want = "true"
		}
		sc = append(sc, ok(c.s+" LIKE "+c.p, want, c2("like", ls(c.s), ls(c.p))))
	}
	sc = append(sc,
		ok("ilike", "true", c2("ilike", ls("HeLLo"), ls("h%O"))),
		ok("ilike no", "false", c2("ilike", ls("HeLLo"), ls("x%"))),
		ok("like null", "NULL", c2("like", lit(nil, String), ls("%"))),
		ok("like null pattern", "NULL", c2("like", ls("a"), lit(nil, String))),
		fails("like trailing escape", `LIKE pattern must not end with escape character: "a\\"`, c2("like", ls("a"), ls(`a\`))),
	)
	runScalarCases(t, sc)

	// A pattern column that varies per row goes through the per-row cache.
	rec := recordOf(t, typesOf(String, String), []Datum{"apple", "banana", nil, "cherry"}, []Datum{"a%", "%x%", "c%", "_herry"})
	defer rec.Release()
	got, err := evalRows(t, call(t, "like", col(0, String), col(1, String)), rec)
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range []string{"true", "false", "NULL", "true"} {
		if got[i] != w {
			t.Errorf("row %d: got %s want %s", i, got[i], w)
		}
	}
}
