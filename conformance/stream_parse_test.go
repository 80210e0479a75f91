package conformance

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The streaming directives of testdata/streaming/*.slt (syntax and meaning in doc.go).

// bugPrefix starts the name of a known engine bug in "skipif streamsql-bug-N".
const bugPrefix = "streamsql-bug-"

// knownBugs describes every engine bug a streaming record may be marked with. A record marked
// "skipif streamsql-bug-N" still runs in batch mode; the streaming modes skip it and the suite
// prints every skip (never silently).
var knownBugs = map[string]string{}

// streamDecl is "stream NAME (COLUMNS) [watermark COL INTERVAL]".
type streamDecl struct {
	name    string
	columns string   // "(k VARCHAR, v BIGINT, ts TIMESTAMP)", passed through to the DDL
	names   []string // column names, lower case
	types   []string // column types, upper case, as written ("DECIMAL(10,2)")
	wmCol   int      // watermark column, -1 for none
	wmText  string   // delay as written ("5 seconds")
	wmDelay time.Duration
}

// tableDDL is the batch-mode form: a table with the stream's columns.
func (d *streamDecl) tableDDL() string { return "CREATE TABLE " + d.name + " " + d.columns }

// sourceDDL is the streaming form: a push source with the watermark.
func (d *streamDecl) sourceDDL() string {
	cols := strings.TrimSuffix(d.columns, ")")
	if d.wmCol >= 0 {
		c := d.names[d.wmCol]
		cols += fmt.Sprintf(", WATERMARK FOR %s AS %s - INTERVAL '%s'", c, c, d.wmText)
	}
	return "CREATE SOURCE " + d.name + " " + cols + ") WITH (connector = 'push')"
}

// rowsBlock is "rows NAME" and its rows; epochs holds the row index after which each "epoch" line
// stands (an explicit epoch boundary).
type rowsBlock struct {
	stream string
	cells  [][]string // as written, one slice per row
	lines  []int      // file line of each row
	epochs []int      // boundaries: number of rows of this block before each "epoch" line
}

// Streaming output modes of a query record.
const (
	smView     = "view"     // CREATE MATERIALIZED VIEW; compare SELECT * FROM it
	smComplete = "complete" // console JSON sink; compare its last epoch
	smUpdate   = "update"   // console JSON sink; compare the upserted final state
	smAppend   = "append"   // console JSON sink; compare the union of its output
)

// streamQuery is how the streaming modes run a query record.
type streamQuery struct {
	mode    string // smView (default), smComplete, smUpdate, smAppend
	keys    []int  // update mode: 0-based key columns
	keyed   bool   // update mode: rows are upserted by keys (keys=none: a global aggregate's one row)
	exact   bool   // splits=exact: only the explicit epochs run, batch mode is no oracle
	dropped int    // dropped=N: late rows the stateful operators must have dropped (-1: unchecked)
}

func parseStreamDecl(rec *record, line string) error {
	rec.kind = recStream
	rest := strings.TrimSpace(strings.TrimPrefix(line, "stream"))
	open := strings.IndexByte(rest, '(')
	if open <= 0 {
		return fmt.Errorf("want stream NAME (COL TYPE, ...) [watermark COL INTERVAL], got %q", line)
	}
	d := &streamDecl{name: strings.TrimSpace(rest[:open]), wmCol: -1}
	depth, end := 0, -1
	for i := open; i < len(rest) && end < 0; i++ {
		switch rest[i] {
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				end = i
			}
		}
	}
	if end < 0 {
		return fmt.Errorf("unbalanced parentheses in %q", line)
	}
	d.columns = rest[open : end+1]
	for _, col := range splitTopLevel(rest[open+1 : end]) {
		f := strings.Fields(col)
		if len(f) < 2 {
			return fmt.Errorf("column %q needs a name and a type", col)
		}
		d.names = append(d.names, strings.ToLower(f[0]))
		d.types = append(d.types, strings.ToUpper(strings.Join(f[1:], "")))
	}
	tail := strings.Fields(rest[end+1:])
	if len(tail) > 0 {
		if len(tail) < 3 || tail[0] != "watermark" {
			return fmt.Errorf("after the columns want watermark COL INTERVAL, got %q", strings.Join(tail, " "))
		}
		for i, n := range d.names {
			if n == strings.ToLower(tail[1]) {
				d.wmCol = i
			}
		}
		if d.wmCol < 0 || d.types[d.wmCol] != "TIMESTAMP" {
			return fmt.Errorf("watermark column %q is not a TIMESTAMP column of %s", tail[1], d.name)
		}
		d.wmText = strings.Join(tail[2:], " ")
		delay, err := parseDelay(d.wmText)
		if err != nil {
			return err
		}
		d.wmDelay = delay
	}
	rec.stream = d
	rec.sql = d.sourceDDL()
	return nil
}

// splitTopLevel splits s at commas outside parentheses ("DECIMAL(10,2)" stays whole).
func splitTopLevel(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// parseDelay reads a watermark delay such as "5 seconds" or "1 minute 30 seconds".
func parseDelay(s string) (time.Duration, error) {
	units := map[string]time.Duration{
		"millisecond": time.Millisecond, "second": time.Second, "minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour,
	}
	f := strings.Fields(s)
	if len(f) == 0 || len(f)%2 != 0 {
		return 0, fmt.Errorf("watermark delay %q: want pairs of number and unit", s)
	}
	var d time.Duration
	for i := 0; i < len(f); i += 2 {
		n, err := strconv.ParseInt(f[i], 10, 64)
		unit, ok := units[strings.TrimSuffix(strings.ToLower(f[i+1]), "s")]
		if err != nil || !ok {
			return 0, fmt.Errorf("watermark delay %q: bad %q %q", s, f[i], f[i+1])
		}
		d += time.Duration(n) * unit
	}
	return d, nil
}

// parseRowsBlock reads "rows NAME" at lines[i] and the rows after it up to a blank line, and
// returns the index of the last line read.
func parseRowsBlock(rec *record, fields []string, lines []string, i int) (int, error) {
	if len(fields) != 2 {
		return i, fmt.Errorf("%s:%d: want rows NAME", rec.file, i+1)
	}
	rec.kind = recRows
	b := &rowsBlock{stream: fields[1]}
	j := i + 1
	for ; j < len(lines) && strings.TrimSpace(lines[j]) != ""; j++ {
		l := strings.TrimSpace(lines[j])
		if strings.HasPrefix(l, "#") {
			continue
		}
		if l == "epoch" {
			b.epochs = append(b.epochs, len(b.cells))
			continue
		}
		cells, err := splitCells(l)
		if err != nil {
			return j, fmt.Errorf("%s:%d: %v", rec.file, j+1, err)
		}
		b.cells = append(b.cells, cells)
		b.lines = append(b.lines, j+1)
	}
	rec.rows = b
	rec.sql = "rows " + b.stream
	return j, nil
}

// splitCells cuts a row line at spaces; a cell in single quotes may hold spaces (” is a quote).
func splitCells(l string) ([]string, error) {
	var out []string
	for l = strings.TrimLeft(l, " "); l != ""; l = strings.TrimLeft(l, " ") {
		if l[0] != '\'' {
			end := strings.IndexByte(l, ' ')
			if end < 0 {
				end = len(l)
			}
			out = append(out, l[:end])
			l = l[end:]
			continue
		}
		var sb strings.Builder
		k := 1
		for ; ; k++ {
			if k >= len(l) {
				return nil, fmt.Errorf("unterminated quoted cell in %q", l)
			}
			if l[k] == '\'' {
				if k+1 < len(l) && l[k+1] == '\'' {
					sb.WriteByte('\'')
					k++
					continue
				}
				break
			}
			sb.WriteByte(l[k])
		}
		// A quoted cell is always text, even "NULL": mark it so cellValue does not read it.
		out = append(out, "'"+sb.String())
		l = l[k+1:]
	}
	return out, nil
}

// cellValue converts one cell to the Go value Engine.Push takes and the SQL literal INSERT takes,
// for a column of type typ.
func cellValue(typ, cell string) (any, string, error) {
	if cell == nullCell {
		return nil, "NULL", nil
	}
	text, quoted := strings.CutPrefix(cell, "'")
	if !quoted && cell == emptyCell {
		text = ""
	}
	bad := func(err error) (any, string, error) {
		return nil, "", fmt.Errorf("cell %q is not a %s: %v", cell, typ, err)
	}
	base, _, _ := strings.Cut(typ, "(")
	switch base {
	case "VARCHAR", "TEXT", "STRING":
		return text, "'" + strings.ReplaceAll(text, "'", "''") + "'", nil
	case "BIGINT", "INT", "INTEGER":
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return bad(err)
		}
		return n, text, nil
	case "DOUBLE", "FLOAT", "REAL":
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return bad(err)
		}
		return f, text + "::double", nil
	case "DECIMAL", "NUMERIC":
		if _, err := strconv.ParseFloat(text, 64); err != nil {
			return bad(err)
		}
		return text, text, nil
	case "BOOLEAN", "BOOL":
		b, err := strconv.ParseBool(text)
		if err != nil {
			return bad(err)
		}
		return b, strconv.FormatBool(b), nil
	case "TIMESTAMP":
		ts, err := parseCellTime(text)
		if err != nil {
			return bad(err)
		}
		return ts, "TIMESTAMP '" + ts.Format("2006-01-02 15:04:05.999999") + "'", nil
	case "DATE":
		d, err := time.Parse("2006-01-02", text)
		if err != nil {
			return bad(err)
		}
		return d, "DATE '" + text + "'", nil
	}
	return nil, "", fmt.Errorf("column type %s is not supported in rows blocks", typ)
}

// parseCellTime reads 2024-01-01T00:00:01 with optional fractional seconds, in UTC.
func parseCellTime(s string) (time.Time, error) {
	return time.ParseInLocation("2006-01-02T15:04:05.999999", s, time.UTC)
}

// parseQueryOptions takes the key=value words off a query header and returns the other words.
func parseQueryOptions(rec *record, fields []string) ([]string, error) {
	rec.sq = streamQuery{mode: smView, dropped: -1}
	var rest []string
	for _, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			rest = append(rest, f)
			continue
		}
		switch k {
		case "mode":
			switch v {
			case smView, smComplete, smUpdate, smAppend:
				rec.sq.mode = v
			default:
				return nil, fmt.Errorf("unknown mode %q (use view, complete, update or append)", v)
			}
		case "keys":
			rec.sq.keyed = true
			if v == "none" {
				break
			}
			for _, s := range strings.Split(v, ",") {
				n, err := strconv.Atoi(s)
				if err != nil || n < 1 {
					return nil, fmt.Errorf("keys=%s: want 1-based column numbers separated by commas", v)
				}
				rec.sq.keys = append(rec.sq.keys, n-1)
			}
		case "splits":
			switch v {
			case "any":
			case "exact":
				rec.sq.exact = true
			default:
				return nil, fmt.Errorf("unknown splits %q (use any or exact)", v)
			}
		case "dropped":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("dropped=%s: want a row count", v)
			}
			rec.sq.dropped = n
		default:
			return nil, fmt.Errorf("unknown query option %q (use mode, keys, splits or dropped)", k)
		}
	}
	if rec.sq.keyed && rec.sq.mode != smUpdate {
		return nil, fmt.Errorf("keys= applies to mode=update only")
	}
	if rec.sq.dropped >= 0 && !rec.sq.exact {
		return nil, fmt.Errorf("dropped= needs splits=exact: how many rows are late depends on the epochs")
	}
	return rest, nil
}
