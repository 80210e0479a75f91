package main

import (
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
var tableContext = map[string]bool{"FROM": true, "JOIN": true, "INTO": true, "TABLE": true, "DESCRIBE": true, `\D`: true, "EXISTS": true}

// complete returns the identifier prefix before cursor (a rune index into line) and the sorted,
// distinct candidates that extend it. Keywords and functions follow the case of the prefix (a
// prefix without upper-case letters gets lower-case keywords); catalog names keep their spelling.
// After FROM, JOIN, INTO, TABLE, DESCRIBE or \d only table names are proposed.
func (c *completer) complete(line []rune, cursor int) (prefix string, cands []string) {
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
	add := func(s string) {
		if strings.HasPrefix(strings.ToLower(s), lower) && !seen[strings.ToLower(s)] {
			seen[strings.ToLower(s)] = true
			cands = append(cands, s)
		}
	}
	tables := c.tables()
	for _, t := range tables {
		add(t)
	}
	if !tableContext[strings.ToUpper(previousWord(line[:start]))] {
		for _, t := range tables {
			for _, col := range c.columns(t) {
				add(col)
			}
		}
		for _, w := range c.words {
			if lowerCase {
				w = strings.ToLower(w)
			} else {
				w = strings.ToUpper(w)
			}
			add(w)
		}
	}
	sort.Strings(cands)
	return prefix, cands
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
