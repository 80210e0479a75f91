package sql

import (
	"strings"
	"testing"
)

// TestParseSubscribe checks SUBSCRIBE [TO] name and SUBSCRIBE [TO] (query): names fold like
// other identifiers, a query keeps its text, and malformed forms get positioned errors.
func TestParseSubscribe(t *testing.T) {
	for _, tc := range []struct{ src, name, query string }{
		{"SUBSCRIBE TO Totals", "totals", ""},
		{`subscribe "Totals"`, "Totals", ""},
		{"SUBSCRIBE TO (SELECT k, count(*) FROM s GROUP BY k)", "", "SELECT k, count(*) FROM s GROUP BY k"},
		{"subscribe ( select a from (select a from t) x where a in (1, 2) ) ", "", "select a from (select a from t) x where a in (1, 2)"},
	} {
		st, err := Parse(tc.src)
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		s, ok := st.(*Subscribe)
		if !ok {
			t.Fatalf("%s: got %T", tc.src, st)
		}
		if s.Name != tc.name || s.QueryText != tc.query || (s.Query != nil) != (tc.query != "") {
			t.Errorf("%s: name %q query %q (parsed %v)", tc.src, s.Name, s.QueryText, s.Query != nil)
		}
	}
	for _, tc := range []struct{ src, msg string }{
		{"SUBSCRIBE TO", "expected a materialized view name or a parenthesized query, found end of statement"},
		{"SUBSCRIBE TO v extra", `expected end of statement, found "extra"`},
		{"SUBSCRIBE TO (SELECT 1", "unclosed parenthesis in SUBSCRIBE"},
		{"SUBSCRIBE TO (SELECT 1) x", `expected end of statement, found "x"`},
		{"SUBSCRIBE TO (SELEC 1)", "syntax error"},
	} {
		_, err := Parse(tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: error %v, want one containing %q", tc.src, err, tc.msg)
		}
	}
}
