package main

import (
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/streamsql/streamsql/exec"
	"github.com/streamsql/streamsql/sql"
)

// completer proposes completions for the word before the cursor: SQL keywords, function names,
// table names and column names (of all tables), matched by case-insensitive prefix. The catalog
// is read through the two functions on every call, so tables created during the session appear.
type completer struct {
	tables  func() []string
	columns func(table string) []string
	words   []string // keywords and function names, upper-case keywords first
}

func newCompleter(tables func() []string, columns func(table string) []string) *completer {
	words := append([]string(nil), sql.Keywords()...)
	words = append(words, exec.FunctionNames()...)
	return &completer{tables: tables, columns: columns, words: words}
}

// tableContext lists the words after which only a table name makes sense.
var tableContext = map[string]bool{"FROM": true, "JOIN": true, "INTO": true, "TABLE": true, "DESCRIBE": true, `\D`: true, "EXISTS": true,
	"SOURCE": true, "SINK": true, "VIEW": true, "SUBSCRIBE": true, "TO": true, "QUERY": true}

// statementWords begin a statement: all that is proposed for the first word.
var statementWords = []string{"SELECT", "INSERT INTO", "CREATE TABLE", "CREATE SOURCE", "CREATE SINK",
	"CREATE MATERIALIZED VIEW", "DROP TABLE", "DROP SOURCE", "DROP SINK", "DROP MATERIALIZED VIEW", "SHOW",
	"DESCRIBE", "EXPLAIN", "SUBSCRIBE TO", "STOP QUERY", "WITH", "VALUES"}

// candGroup is one group of candidates, shown under its tag.
type candGroup struct {
	tag   string
	cands []string
}

// complete returns the identifier prefix before cursor (a rune index into line) and the
// distinct candidates that extend it, in the order groups lists them.
func (c *completer) complete(line []rune, cursor int) (prefix string, cands []string) {
	prefix, groups := c.groups(line, cursor)
	for _, g := range groups {
		cands = append(cands, g.cands...)
	}
	return prefix, cands
}

// groups returns the identifier prefix before cursor and the candidates that extend it (by
// case-insensitive prefix), in groups: at the first word of a statement, the words that begin
// one; after FROM, JOIN, INTO, TABLE, DESCRIBE, \d (and the like) the relation names; elsewhere
// first the columns of the relations the statement names (the table being queried), then the
// relations, then the other relations' columns, then keywords and functions. Each group is
// sorted; a candidate appears once, in its first group. Keywords follow the case of the prefix
// (a prefix without upper-case letters gets lower-case keywords); catalog names keep their
// spelling.
func (c *completer) groups(line []rune, cursor int) (prefix string, groups []candGroup) {
	cursor = min(max(cursor, 0), len(line))
	start := cursor
	for start > 0 && isIdentRune(line[start-1]) {
		start--
	}
	prefix = string(line[start:cursor])
	if start == 0 && strings.HasPrefix(string(line), `\`) && !strings.ContainsAny(string(line[:cursor]), " \t") {
		return prefix, nil // completing a meta-command name: nothing sensible to offer
	}
	lower := strings.ToLower(prefix)
	lowerCase := prefix == lower
	seen := map[string]bool{}
	group := func(tag string, words []string, keyword bool) {
		var g []string
		for _, w := range words {
			if keyword {
				if lowerCase {
					w = strings.ToLower(w)
				} else {
					w = strings.ToUpper(w)
				}
			}
			if strings.HasPrefix(strings.ToLower(w), lower) && !seen[strings.ToLower(w)] {
				seen[strings.ToLower(w)] = true
				g = append(g, w)
			}
		}
		if len(g) > 0 {
			sort.Strings(g)
			groups = append(groups, candGroup{tag: tag, cands: g})
		}
	}
	before := previousWord(line[:start])
	if before == "" || strings.HasSuffix(before, ";") {
		group("statements", statementWords, true)
		return prefix, groups
	}
	tables := c.tables()
	if tableContext[strings.ToUpper(before)] {
		group("relations", tables, false)
		return prefix, groups
	}
	named := namedRelations(string(line), tables)
	for _, t := range named {
		group("columns of "+t, c.columns(t), false)
	}
	group("relations", tables, false)
	var others []string
	for _, t := range tables {
		if !slices.Contains(named, t) {
			others = append(others, c.columns(t)...)
		}
	}
	group("other columns", others, false)
	group("keywords and functions", c.words, true)
	return prefix, groups
}

// namedRelations lists, in order of appearance, the known relations the statement names after
// FROM, JOIN, INTO, UPDATE, TABLE or DESCRIBE (and after commas of a FROM list).
func namedRelations(text string, tables []string) []string {
	byLower := map[string]string{}
	for _, t := range tables {
		byLower[strings.ToLower(t)] = t
	}
	var out []string
	inFrom, expect := false, false
	for _, tok := range sql.Lex(text) {
		switch {
		case tok.Kind == sql.TokIdent || tok.Kind == sql.TokQIdent:
			word := strings.ToUpper(tok.Text)
			switch word {
			case "FROM", "JOIN", "INTO", "UPDATE", "TABLE", "DESCRIBE":
				expect, inFrom = true, word == "FROM" || word == "JOIN"
				continue
			case "WHERE", "GROUP", "ORDER", "HAVING", "LIMIT", "ON", "USING", "UNION", "SELECT":
				inFrom = false
			}
			if expect {
				name := tok.Text
				if tok.Kind == sql.TokQIdent {
					name = tok.Val
				}
				if t, ok := byLower[strings.ToLower(name)]; ok && !slices.Contains(out, t) {
					out = append(out, t)
				}
			}
			expect = false
		case tok.IsOp(",") && inFrom:
			expect = true
		default:
			expect = false
		}
	}
	return out
}

// previousWord is the last whitespace-separated word of text (which ends before the word being
// completed), or "" when there is none.
func previousWord(text []rune) string {
	fields := strings.Fields(string(text))
	if len(fields) == 0 {
		return ""
	}
	return fields[len(fields)-1]
}

func isIdentRune(r rune) bool {
	return r == '_' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r)
}
