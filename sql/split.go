package sql

import "strings"

// Statement is one statement of a script: its text (without the terminating ';') and the byte
// offset of that text in the script, so errors can point into the whole script.
type Statement struct {
	Text   string
	Offset int
}

// SplitStatements splits a script at top-level semicolons (not inside strings, quoted identifiers
// or comments). Empty statements are dropped. A trailing statement without ';' is included.
func SplitStatements(script string) []Statement {
	var out []Statement
	start := 0
	tokens := 0 // tokens since start: none means only whitespace and comments
	for _, t := range Lex(script) {
		if t.Kind == TokEOF || t.IsOp(";") {
			end := t.Pos
			text := script[start:end]
			if tokens > 0 {
				trimmed := strings.TrimLeft(text, " \t\r\n")
				out = append(out, Statement{Text: strings.TrimRight(trimmed, " \t\r\n"), Offset: start + len(text) - len(trimmed)})
			}
			start, tokens = t.End, 0
			continue
		}
		tokens++
	}
	return out
}

// IsComplete reports whether text ends a statement: its last token is a top-level ';' (so the
// REPL knows when to execute), or it is a backslash meta-command. Unterminated strings, quoted
// identifiers and comments are incomplete.
func IsComplete(text string) bool {
	trimmed := strings.TrimSpace(text)
	if strings.HasPrefix(trimmed, `\`) {
		return true
	}
	toks := Lex(text)
	if len(toks) < 2 {
		return false
	}
	last := toks[len(toks)-2]
	return last.IsOp(";")
}

// Keywords lists the words tab completion offers, upper-case.
func Keywords() []string {
	return []string{
		"SELECT", "FROM", "WHERE", "GROUP BY", "HAVING", "ORDER BY", "LIMIT", "OFFSET", "DISTINCT",
		"AS", "AND", "OR", "NOT", "NULL", "IS", "IN", "BETWEEN", "LIKE", "CASE", "WHEN", "THEN", "ELSE",
		"END", "CAST", "JOIN", "INNER JOIN", "LEFT JOIN", "RIGHT JOIN", "CROSS JOIN", "ON", "UNION ALL",
		"WITH", "INSERT INTO", "VALUES", "CREATE TABLE", "DROP TABLE", "IF EXISTS", "IF NOT EXISTS",
		"SHOW TABLES", "DESCRIBE", "EXPLAIN", "ASC", "DESC", "TRUE", "FALSE", "INTERVAL", "TIMESTAMP",
		"DATE", "BIGINT", "DOUBLE", "DECIMAL", "VARCHAR", "BOOLEAN", "EXTRACT", "COUNT", "SUM", "AVG",
		"MIN", "MAX", "EXISTS", "CONNECTOR", "FORMAT", "PATH", "HEADER",
	}
}
