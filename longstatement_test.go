package streamsql

import (
	"fmt"
	"strings"
	"testing"
)

// TestLongUnionAllChain: a generated chain of 5,000 UNION ALL branches runs (it was refused as
// nested too deeply after the PostgreSQL parser, and re-lexing the statement per branch made
// planning quadratic) and gives every branch's row once.
func TestLongUnionAllChain(t *testing.T) {
	const n = 5000
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("SELECT %d AS x", i)
	}
	eng, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	got := query(t, eng, "SELECT COUNT(*), SUM(x), COUNT(DISTINCT x) FROM ("+strings.Join(parts, " UNION ALL ")+") t")
	if want := fmt.Sprintf("%d|%d|%d", n, n*(n-1)/2, n); len(got) != 1 || got[0] != want {
		t.Fatalf("got %v, want %s", got, want)
	}
	// A mixed chain: UNION (distinct) inside, UNION ALL around it, and a branch whose type differs.
	// PostgreSQL: the UNION keeps one 1, the rest add 2, 2.5 and 1 (count 4, sum 6.5).
	got = query(t, eng, "SELECT COUNT(*), SUM(x) FROM (SELECT 1 AS x UNION SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 2.5 UNION ALL SELECT 1) t")
	if strings.Join(got, " ") != "4|6.5" {
		t.Fatalf("mixed chain: %v", got)
	}
}
