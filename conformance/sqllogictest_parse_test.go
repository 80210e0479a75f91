package conformance

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// This file reads SQLite's sqllogictest format (the corpus of select1.test ... select5.test,
// evidence/*, random/*, index/*), which differs from this package's own .slt format: expected
// results hold one value per line, large results are recorded as "N values hashing to <md5>", and
// records carry skipif/onlyif conditions naming database engines (sqlite, postgresql, mysql,
// mssql, oracle).
//
//	hash-threshold N                 results of more than N values are compared by their hash
//	skipif <db> / onlyif <db>        conditions on the next statement, query or halt
//	statement ok | statement error   then the SQL, up to a blank line
//	query <types> [nosort|rowsort|valuesort] [label]
//	                                 then the SQL, up to "----" or a blank line, then the values
//	halt                             stop reading the file (for the engines its conditions select)
//
// Lines starting with '#' are comments wherever they are; they do not end a record.

// logicKind is the kind of one sqllogictest record.
type logicKind int

const (
	logicStatement logicKind = iota
	logicQuery
	logicHalt
	logicHashThreshold
)

// logicRecord is one record of a sqllogictest file.
type logicRecord struct {
	kind logicKind
	file string
	line int // 1-based line of the statement/query/halt line
	// conditions, in file order: skipif (skip=true) or onlyif (skip=false) and the database name.
	conds []logicCond

	sql         string
	expectError bool // statement error

	types     string // query: one of I, R, T per column
	sortMode  string // nosort, rowsort or valuesort
	label     string // query: optional label shared by queries that must agree
	values    []string
	hashed    bool // the expected block is "N values hashing to H"
	hashCount int
	hash      string

	threshold int // hash-threshold
}

type logicCond struct {
	skip bool
	db   string
}

// appliesTo reports whether the record runs for an engine that calls itself db.
func (r *logicRecord) appliesTo(db string) bool {
	for _, c := range r.conds {
		if c.skip && c.db == db {
			return false
		}
		if !c.skip && c.db != db {
			return false
		}
	}
	return true
}

func (r *logicRecord) pos() string { return fmt.Sprintf("%s:%d", r.file, r.line) }

// parseLogicTest reads a whole sqllogictest file.
func parseLogicTest(file string, src io.Reader) ([]*logicRecord, error) {
	sc := bufio.NewScanner(src)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var lines []string
	for sc.Scan() {
		lines = append(lines, strings.TrimRight(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var recs []*logicRecord
	i := 0
	// next returns the next non-comment line index at or after i, or len(lines).
	next := func() int {
		for i < len(lines) && strings.HasPrefix(lines[i], "#") {
			i++
		}
		return i
	}
	blank := func(s string) bool { return strings.TrimSpace(s) == "" }
	for {
		next()
		for i < len(lines) && blank(lines[i]) {
			i++
			next()
		}
		if i >= len(lines) {
			return recs, nil
		}
		var conds []logicCond
		for {
			f := strings.Fields(lines[i])
			if len(f) >= 2 && (f[0] == "skipif" || f[0] == "onlyif") {
				conds = append(conds, logicCond{skip: f[0] == "skipif", db: f[1]})
				i++
				next()
				if i >= len(lines) || blank(lines[i]) {
					return nil, fmt.Errorf("%s:%d: %s without a record", file, i, f[0])
				}
				continue
			}
			break
		}
		head := strings.Fields(lines[i])
		rec := &logicRecord{file: file, line: i + 1, conds: conds}
		i++
		// body collects SQL lines (comments dropped) up to a blank line or, for a query, "----".
		body := func(stopAtDashes bool) (string, bool) {
			var sql []string
			for {
				next()
				if i >= len(lines) || blank(lines[i]) {
					return strings.Join(sql, "\n"), false
				}
				if stopAtDashes && lines[i] == "----" {
					i++
					return strings.Join(sql, "\n"), true
				}
				sql = append(sql, lines[i])
				i++
			}
		}
		switch head[0] {
		case "halt":
			rec.kind = logicHalt
		case "hash-threshold":
			if len(head) != 2 {
				return nil, fmt.Errorf("%s: hash-threshold wants one number", rec.pos())
			}
			n, err := strconv.Atoi(head[1])
			if err != nil || n < 0 {
				return nil, fmt.Errorf("%s: bad hash-threshold %q", rec.pos(), head[1])
			}
			rec.kind, rec.threshold = logicHashThreshold, n
		case "statement":
			if len(head) < 2 || (head[1] != "ok" && head[1] != "error") {
				return nil, fmt.Errorf("%s: statement wants ok or error", rec.pos())
			}
			rec.kind, rec.expectError = logicStatement, head[1] == "error"
			rec.sql, _ = body(false)
		case "query":
			if len(head) < 2 {
				return nil, fmt.Errorf("%s: query without a type string", rec.pos())
			}
			rec.kind, rec.types, rec.sortMode = logicQuery, head[1], "nosort"
			for _, c := range rec.types {
				if c != 'I' && c != 'R' && c != 'T' {
					return nil, fmt.Errorf("%s: unknown type character %q", rec.pos(), c)
				}
			}
			if len(head) >= 3 {
				rec.sortMode = head[2]
				if rec.sortMode != "nosort" && rec.sortMode != "rowsort" && rec.sortMode != "valuesort" {
					return nil, fmt.Errorf("%s: unknown sort mode %q", rec.pos(), rec.sortMode)
				}
			}
			if len(head) >= 4 {
				rec.label = head[3]
			}
			var dashes bool
			rec.sql, dashes = body(true)
			if dashes {
				for {
					next()
					if i >= len(lines) || blank(lines[i]) {
						break
					}
					rec.values = append(rec.values, lines[i])
					i++
				}
			}
			if len(rec.values) == 1 {
				if n, h, ok := parseHashLine(rec.values[0]); ok {
					rec.hashed, rec.hashCount, rec.hash = true, n, h
					rec.values = nil
				}
			}
		default:
			return nil, fmt.Errorf("%s: unknown record type %q", rec.pos(), head[0])
		}
		if rec.kind != logicHalt && rec.kind != logicHashThreshold && strings.TrimSpace(rec.sql) == "" {
			return nil, fmt.Errorf("%s: %s without SQL", rec.pos(), head[0])
		}
		recs = append(recs, rec)
	}
}

// parseHashLine reads "N values hashing to <32 hex digits>".
func parseHashLine(s string) (int, string, bool) {
	f := strings.Fields(s)
	if len(f) != 5 || f[1] != "values" || f[2] != "hashing" || f[3] != "to" || len(f[4]) != 32 {
		return 0, "", false
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		return 0, "", false
	}
	return n, f[4], true
}
