package sql

import (
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/streamsql/streamsql/planner"
)

// Catalog is what the binder needs from the engine: tables by name.
type Catalog interface {
	// LookupTable finds a table (names are case-insensitive).
	LookupTable(name string) (planner.TableSource, bool)
	// TableNames lists every table, for "did you mean" suggestions.
	TableNames() []string
}

// scopeCol is a column visible to expressions: the input columns of the node being built.
type scopeCol struct {
	table string // qualifier (table name or alias); "" for computed columns
	name  string
	typ   arrow.DataType
}

type scope struct {
	cols  []scopeCol
	outer *scope // the enclosing query's scope, only to explain correlated references
}

func scopeOf(n planner.Node) *scope {
	s := &scope{}
	for _, c := range n.Columns() {
		s.cols = append(s.cols, scopeCol{table: c.Table, name: c.Name, typ: c.Type})
	}
	return s
}

// resolve finds the column table.name (table may be ""). It returns -1 and an error when the name
// is unknown or ambiguous.
func (s *scope) resolve(table, name string) (int, error) {
	found := -1
	for i, c := range s.cols {
		if c.name != name {
			continue
		}
		if table != "" && c.table != table {
			continue
		}
		if found >= 0 {
			return -1, codedf(CodeAmbiguousColumn, "column reference %q is ambiguous", qualified(table, name))
		}
		found = i
	}
	if found >= 0 {
		return found, nil
	}
	if s.outer != nil {
		// found in the enclosing query, or further out (which reports the same error)
		if _, err := s.outer.resolve(table, name); err == nil || isCorrelatedErr(err) {
			return -1, codedf(CodeFeatureNotSupported, "correlated subqueries are not supported (%q refers to the outer query); rewrite it as a join", qualified(table, name))
		}
	}
	if table != "" && !s.hasTable(table) {
		return -1, codedf(CodeUndefinedTable, "missing FROM-clause entry for table %q", table)
	}
	var names []string
	for _, c := range s.cols {
		if table == "" || c.table == table {
			names = append(names, c.name)
		}
	}
	msg := fmt.Sprintf("column %q does not exist", qualified(table, name))
	if best := closest(name, names); best != "" {
		msg += fmt.Sprintf("; did you mean %q?", best)
	}
	return -1, codedf(CodeUndefinedColumn, "%s", msg)
}

func (s *scope) hasTable(t string) bool {
	for _, c := range s.cols {
		if c.table == t {
			return true
		}
	}
	return false
}

func qualified(table, name string) string {
	if table == "" {
		return name
	}
	return table + "." + name
}

// closest returns the candidate nearest to name by edit distance, if it is near enough to be a
// plausible typo.
func closest(name string, candidates []string) string {
	best, bestD := "", 1<<30
	sorted := append([]string{}, candidates...)
	sort.Strings(sorted)
	for _, c := range sorted {
		d := editDistance(strings.ToLower(name), strings.ToLower(c))
		if d < bestD {
			best, bestD = c, d
		}
	}
	if bestD <= max(2, len(name)/3) {
		return best
	}
	return ""
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// Closest is the "did you mean" helper for callers outside the binder (DESCRIBE, INSERT targets).
func Closest(name string, candidates []string) string { return closest(name, candidates) }
