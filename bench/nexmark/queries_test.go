package nexmark

import (
	"fmt"
	"strings"
	"testing"
)

// TestEveryQueryHasAFile checks the suite holds q0 … q22, in order, each with a mode and a
// statement.
func TestEveryQueryHasAFile(t *testing.T) {
	qs, err := Queries()
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 23 {
		t.Fatalf("%d queries, want q0 … q22", len(qs))
	}
	for i, q := range qs {
		if q.Name != fmt.Sprintf("q%d", i) || q.About == "" || q.Mode == "" || !strings.HasPrefix(strings.ToUpper(q.SQL), "SELECT") {
			t.Errorf("query %d: %+v", i, q)
		}
		if strings.Contains(q.SQL, "\n--") {
			t.Errorf("%s: a comment line inside the statement (header lines must come first)", q.Name)
		}
	}
}

func TestParseHeader(t *testing.T) {
	q, err := parse("q9", "-- q9: winning bids,\n--    continued\n-- mode: update\n-- unsupported: top-N\n--    per key\n-- needs: a\n-- needs: b\n-- setup: CREATE TABLE t (k INT);\n--    INSERT INTO t VALUES (1)\nSELECT 1;\n")
	if err != nil {
		t.Fatal(err)
	}
	if q.About != "winning bids, continued" || q.Mode != "update" || q.Unsupported != "top-N per key" || len(q.Needs) != 2 || q.SQL != "SELECT 1" ||
		len(q.Setup) != 1 || q.Setup[0] != "CREATE TABLE t (k INT); INSERT INTO t VALUES (1)" {
		t.Errorf("%+v", q)
	}
	for _, bad := range []string{
		"SELECT 1",                                            // no header
		"-- q8: x\n-- mode: append\nSELECT 1",                 // wrong name
		"-- q9: x\nSELECT 1",                                  // no mode
		"-- q9: x\n-- mode: upsert\nSELECT 1",                 // bad mode
		"-- q9: x\n-- mode: append\n-- colour: red\nSELECT 1", // unknown key
		"-- q9: x\n-- mode: append\n",                         // no statement
	} {
		if _, err := parse("q9", bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
