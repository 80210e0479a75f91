package conformance

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// recordKind distinguishes the records of a .slt file.
type recordKind int

const (
	recStatement recordKind = iota
	recQuery
	recHalt
	recStream // streaming files: declares a stream (see stream_parse_test.go)
	recRows   // streaming files: rows appended to a stream
)

// Engine names used by skipif/onlyif.
const (
	engineStreamSQL = "streamsql"
	enginePostgres  = "postgres"
)

// record is one test case of a .slt file.
type record struct {
	file string
	line int // line of the record header, 1-based
	kind recordKind
	sql  string

	// statement records
	expectError bool
	errContains string

	// query records
	types   string // one letter per column: I R T B D
	rowsort bool
	// contains: each expected line must be a substring of a later actual row than the previous
	// line's match (for EXPLAIN output, whose exact layout is not part of the contract).
	contains bool
	expected []string // expected rows as written, one line per row

	skip map[string]bool // engines the record does not run on

	// streaming files only (stream_parse_test.go)
	stream *streamDecl // recStream
	rows   *rowsBlock  // recRows
	sq     streamQuery // query records: how the streaming modes run it
	bug    string      // "streamsql-bug-N": the streaming modes skip it, loudly
}

// runsOn reports whether the record applies to the named engine.
func (r *record) runsOn(engine string) bool { return !r.skip[engine] }

func (r *record) pos() string { return fmt.Sprintf("%s:%d", r.file, r.line) }

// parseSLT reads the records of one file. Syntax errors (unknown record type, a query without
// "----", bad type letters) are returned with file:line.
func parseSLT(file string, src io.Reader) ([]*record, error) {
	sc := bufio.NewScanner(src)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var lines []string
	for sc.Scan() {
		lines = append(lines, strings.TrimRight(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var out []*record
	skip := map[string]bool{}
	pendingBug := ""
	errf := func(i int, format string, a ...any) error {
		return fmt.Errorf("%s:%d: %s", file, i+1, fmt.Sprintf(format, a...))
	}
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		switch fields[0] {
		case "skipif", "onlyif":
			if fields[0] == "skipif" && len(fields) == 2 && strings.HasPrefix(fields[1], bugPrefix) {
				if _, known := knownBugs[fields[1]]; !known {
					return nil, errf(i, "unknown bug %q: add it to knownBugs with a description", fields[1])
				}
				pendingBug = fields[1]
				continue
			}
			if len(fields) != 2 || (fields[1] != engineStreamSQL && fields[1] != enginePostgres) {
				return nil, errf(i, "want %q or %q after %s, got %q", engineStreamSQL, enginePostgres, fields[0], line)
			}
			target := fields[1]
			if fields[0] == "onlyif" {
				target = enginePostgres
				if fields[1] == enginePostgres {
					target = engineStreamSQL
				}
			}
			skip[target] = true
			continue
		case "halt":
			out = append(out, &record{file: file, line: i + 1, kind: recHalt, skip: skip})
			skip = map[string]bool{}
			continue
		}
		rec := &record{file: file, line: i + 1, skip: skip, bug: pendingBug}
		skip = map[string]bool{}
		pendingBug = ""
		switch fields[0] {
		case "stream":
			if err := parseStreamDecl(rec, line); err != nil {
				return nil, errf(i, "%v", err)
			}
			out = append(out, rec)
			continue
		case "rows":
			j, err := parseRowsBlock(rec, fields, lines, i)
			if err != nil {
				return nil, err
			}
			out = append(out, rec)
			i = j
			continue
		}
		switch {
		case fields[0] == "statement" && len(fields) == 2 && fields[1] == "ok":
			rec.kind = recStatement
		case fields[0] == "statement" && len(fields) >= 2 && fields[1] == "error":
			rec.kind = recStatement
			rec.expectError = true
			rec.errContains = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line[len("statement"):]), "error"))
		case fields[0] == "query" && len(fields) >= 2:
			rec.kind = recQuery
			var err error
			if fields, err = parseQueryOptions(rec, fields); err != nil {
				return nil, errf(i, "%v", err)
			}
			if len(fields) > 3 {
				return nil, errf(i, "too many words in %q", line)
			}
			rec.types = fields[1]
			for _, c := range rec.types {
				if !strings.ContainsRune("IRTBD", c) {
					return nil, errf(i, "unknown column type %q in %q (use I R T B D)", c, line)
				}
			}
			if len(fields) == 3 {
				switch fields[2] {
				case "rowsort":
					rec.rowsort = true
				case "contains":
					rec.contains = true
				case "nosort":
				default:
					return nil, errf(i, "unknown sort mode %q (use rowsort, nosort or contains)", fields[2])
				}
			}
			if (rec.sq.mode == smUpdate || rec.sq.mode == smAppend) && !rec.rowsort {
				return nil, errf(i, "mode=%s output has no defined row order: use rowsort", rec.sq.mode)
			}
		default:
			return nil, errf(i, "unknown record %q", line)
		}
		var sqlLines []string
		j := i + 1
		for ; j < len(lines) && strings.TrimSpace(lines[j]) != "" && strings.TrimSpace(lines[j]) != "----"; j++ {
			sqlLines = append(sqlLines, lines[j])
		}
		if len(sqlLines) == 0 {
			return nil, errf(i, "record has no SQL")
		}
		rec.sql = strings.Join(sqlLines, "\n")
		if rec.kind == recQuery {
			if j >= len(lines) || strings.TrimSpace(lines[j]) != "----" {
				return nil, errf(i, "query record has no ---- line before its expected rows")
			}
			j++
			for ; j < len(lines) && strings.TrimSpace(lines[j]) != ""; j++ {
				rec.expected = append(rec.expected, lines[j])
			}
		} else if j < len(lines) && strings.TrimSpace(lines[j]) == "----" {
			return nil, errf(j, "---- after a statement record (use query)")
		}
		out = append(out, rec)
		i = j
	}
	return out, nil
}
