package main

import (
	"reflect"
	"slices"
	"testing"
)

func testCompleter() *completer {
	cols := map[string][]string{
		"orders":    {"order_id", "amount", "customer_id"},
		"customers": {"customer_id", "name"},
	}
	return &completer{
		tables:  func() []string { return []string{"orders", "customers"} },
		columns: func(t string) []string { return cols[t] },
		words:   []string{"SELECT", "FROM", "ORDER BY", "OR", "count", "coalesce"},
	}
}

func TestCompleteCatalogAndKeywords(t *testing.T) {
	c := testCompleter()
	cases := []struct {
		line       string
		cursor     int // -1: end of line
		wantPrefix string
		want       []string
	}{
		// Tables, columns and keywords share the prefix space; keywords follow the prefix case.
		{"SELECT * FROM ord", -1, "ord", []string{"orders"}},
		{"sel", -1, "sel", []string{"select"}},
		{"SEL", -1, "SEL", []string{"SELECT"}},
		// Relations, then columns, then keywords; the columns of the relations the statement
		// names come first.
		{"SELECT cu", -1, "cu", []string{"customers", "customer_id"}},
		{"SELECT o", -1, "o", []string{"orders", "order_id", "or", "order by"}},
		{"SELECT O", -1, "O", []string{"orders", "order_id", "OR", "ORDER BY"}},
		{"SELECT cu FROM customers", 9, "cu", []string{"customer_id", "customers"}},
		{"SELECT o FROM customers c JOIN orders o ON c.customer_id = o.customer_id", 8, "o", []string{"order_id", "orders", "or", "order by"}},
		{"SELECT  FROM orders", 7, "", []string{"amount", "customer_id", "order_id", "customers", "orders", "name", "coalesce", "count", "from", "or", "order by", "select"}},
		// The first word of a statement: the words that begin one.
		{"cr", -1, "cr", []string{"create materialized view", "create sink", "create source", "create table"}},
		{"SELECT 1; ins", -1, "ins", []string{"insert into"}},
		{"SELECT CO", -1, "CO", []string{"COALESCE", "COUNT"}},
		// After FROM/JOIN only tables, even with an empty prefix.
		{"SELECT * FROM ", -1, "", []string{"customers", "orders"}},
		{"SELECT * FROM orders JOIN c", -1, "c", []string{"customers"}},
		{`\d or`, -1, "or", []string{"orders"}},
		// The word is the identifier before the cursor, not the blank-separated word.
		{"SELECT sum(amo", -1, "amo", []string{"amount"}},
		{"SELECT amo FROM orders", 10, "amo", []string{"amount"}},
		// A meta-command name is not completed.
		{`\ti`, -1, "ti", nil},
		{"SELECT zzz", -1, "zzz", nil},
	}
	for _, tc := range cases {
		line := []rune(tc.line)
		cur := tc.cursor
		if cur < 0 {
			cur = len(line)
		}
		prefix, got := c.complete(line, cur)
		if prefix != tc.wantPrefix || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("complete(%q, %d) = %q, %q; want %q, %q", tc.line, cur, prefix, got, tc.wantPrefix, tc.want)
		}
	}
}

func TestNewCompleterHasKeywordsAndFunctions(t *testing.T) {
	c := newCompleter(func() []string { return nil }, func(string) []string { return nil })
	_, got := c.complete([]rune("SELECT * FROM t WHER"), 20)
	if !slices.Equal(got, []string{"WHERE"}) {
		t.Errorf("WHER completes to %q, want [WHERE]", got)
	}
	_, got = c.complete([]rune("SELECT k FROM t gro"), 19)
	if !slices.Contains(got, "group by") {
		t.Errorf("gro completes to %q, want it to contain \"group by\"", got)
	}
}

func TestPositionPad(t *testing.T) {
	script := "SELECT 1;\n\tSELECT 2; SELECT\n3;"
	// Statement 3 starts after "\tSELECT 2; " on line 2.
	off := len("SELECT 1;\n\tSELECT 2; ")
	if got, want := positionPad(script, off), "\n\t          "; got != want {
		t.Errorf("positionPad = %q, want %q", got, want)
	}
	if got := lineOf(script, off); got != 2 {
		t.Errorf("lineOf = %d, want 2", got)
	}
	if got := positionPad(script, 0); got != "" {
		t.Errorf("positionPad at 0 = %q, want empty", got)
	}
}
