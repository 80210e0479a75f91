package server

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/jeroenrinzema/psql-wire/codes"
	pgerror "github.com/jeroenrinzema/psql-wire/errors"
)

// PostgreSQL's COPY text and CSV formats (the COPY chapter of its manual), both directions.
//
// Text: one row per line (\n, or \r\n), columns separated by the delimiter (tab), a field equal
// to the NULL string (\N) is NULL, backslash escapes \b \f \n \r \t \v \\, \digits (octal),
// \xhh (hex) and a backslash before any other character (the delimiter among them) stand for
// that character. A line \. ends the data.
//
// CSV: fields separated by the delimiter (,), a field is quoted ("...") when it holds the
// delimiter, the quote, a newline or would read as NULL; inside quotes the escape (by default the
// quote itself) escapes the quote and itself, and newlines are data. An unquoted field equal to
// the NULL string (empty) is NULL, a quoted one never is. A line \. ends the data.

func copyFormatError(st *copyStmt, line int64, format string, args ...any) error {
	return pgerror.WithCode(fmt.Errorf("COPY %s, line %d: %s", st.table, line, fmt.Sprintf(format, args...)), codes.BadCopyFileFormat)
}

// checkFieldCount reports PostgreSQL's errors for a row with too few or too many fields.
func checkFieldCount(st *copyStmt, schema *arrow.Schema, targets []int, line int64, n int) error {
	if n > len(targets) {
		return copyFormatError(st, line, "extra data after last expected column")
	}
	if n < len(targets) {
		return copyFormatError(st, line, "missing data for column %q", schema.Field(targets[n]).Name)
	}
	return nil
}

// checkHeader verifies HEADER MATCH: the header line names the copied columns in order.
func checkHeader(st *copyStmt, schema *arrow.Schema, targets []int, fields []*string) error {
	if !st.matchHead {
		return nil
	}
	if len(fields) != len(targets) {
		return copyFormatError(st, 1, "wrong number of fields in header line: got %d, expected %d", len(fields), len(targets))
	}
	for k, j := range targets {
		if fields[k] == nil || *fields[k] != schema.Field(j).Name {
			got := "null"
			if fields[k] != nil {
				got = *fields[k]
			}
			return copyFormatError(st, 1, "column name mismatch in header line field %d: got %q, expected %q", k+1, got, schema.Field(j).Name)
		}
	}
	return nil
}

func checkUTF8(st *copyStmt, line int64, s string) error {
	if !utf8.ValidString(s) {
		return pgerror.WithCode(fmt.Errorf("COPY %s, line %d: invalid byte sequence for encoding \"UTF8\"", st.table, line), codes.CharacterNotInRepertoire)
	}
	return nil
}

// decodeText parses text-format COPY data.
func decodeText(st *copyStmt, schema *arrow.Schema, targets []int, data []byte) ([]copyRow, error) {
	var rows []copyRow
	line := int64(0)
	for len(data) > 0 {
		line++
		var raw []byte
		if i := indexByte(data, '\n'); i >= 0 {
			raw, data = data[:i], data[i+1:]
		} else {
			raw, data = data, nil
		}
		if n := len(raw); n > 0 && raw[n-1] == '\r' {
			raw = raw[:n-1]
		}
		if string(raw) == `\.` {
			break
		}
		text := string(raw)
		if err := checkUTF8(st, line, text); err != nil {
			return nil, err
		}
		fields, err := splitTextLine(st, line, text)
		if err != nil {
			return nil, err
		}
		if line == 1 && st.header {
			if err := checkHeader(st, schema, targets, fields); err != nil {
				return nil, err
			}
			continue
		}
		if err := checkFieldCount(st, schema, targets, line, len(fields)); err != nil {
			return nil, err
		}
		rows = append(rows, copyRow{line: line, fields: fields})
	}
	return rows, nil
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// splitTextLine splits one text-format line into fields, decoding escapes; a field whose raw
// text equals the NULL string is nil.
func splitTextLine(st *copyStmt, line int64, s string) ([]*string, error) {
	var out []*string
	var sb strings.Builder
	start := 0
	emit := func(end int) {
		if s[start:end] == st.null {
			out = append(out, nil)
		} else {
			v := sb.String()
			out = append(out, &v)
		}
		sb.Reset()
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == st.delimiter:
			emit(i)
			start = i + 1
		case c == '\\' && i+1 < len(s):
			i++
			switch e := s[i]; e {
			case 'b':
				sb.WriteByte('\b')
			case 'f':
				sb.WriteByte('\f')
			case 'n':
				sb.WriteByte('\n')
			case 'r':
				sb.WriteByte('\r')
			case 't':
				sb.WriteByte('\t')
			case 'v':
				sb.WriteByte('\v')
			case 'x':
				v, n := 0, 0
				for n < 2 && i+1 < len(s) && isHex(s[i+1]) {
					v = v*16 + hexVal(s[i+1])
					i++
					n++
				}
				if n == 0 {
					sb.WriteByte('x')
				} else {
					sb.WriteByte(byte(v))
				}
			case '0', '1', '2', '3', '4', '5', '6', '7':
				v := int(e - '0')
				for n := 1; n < 3 && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '7'; n++ {
					v = v*8 + int(s[i+1]-'0')
					i++
				}
				sb.WriteByte(byte(v))
			default:
				sb.WriteByte(e)
			}
		case c == '\\':
			return nil, copyFormatError(st, line, "end-of-copy marker corrupt (a backslash ends the line)")
		default:
			sb.WriteByte(c)
		}
	}
	emit(len(s))
	for _, f := range out {
		if f != nil && strings.IndexByte(*f, 0) >= 0 {
			return nil, pgerror.WithCode(fmt.Errorf("COPY %s, line %d: invalid byte sequence for encoding \"UTF8\": 0x00", st.table, line), codes.CharacterNotInRepertoire)
		}
	}
	return out, nil
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func hexVal(c byte) int {
	switch {
	case c >= 'a':
		return int(c-'a') + 10
	case c >= 'A':
		return int(c-'A') + 10
	}
	return int(c - '0')
}

// decodeCSV parses CSV-format COPY data.
func decodeCSV(st *copyStmt, schema *arrow.Schema, targets []int, data []byte) ([]copyRow, error) {
	s := string(data)
	var rows []copyRow
	line := int64(1) // the line the current record starts on
	i := 0
	first := true
	for i < len(s) {
		// The end-of-data marker: a line holding only \.
		if strings.HasPrefix(s[i:], `\.`) && (i+2 == len(s) || s[i+2] == '\n' || (s[i+2] == '\r' && (i+3 == len(s) || s[i+3] == '\n'))) {
			break
		}
		startLine := line
		var fields []*string
		for {
			var sb strings.Builder
			quoted := false
			begin := i
			for i < len(s) && s[i] != st.delimiter && s[i] != '\n' && s[i] != '\r' {
				if s[i] == st.quote {
					quoted = true
					i++
					closed := false
					for i < len(s) {
						c := s[i]
						if c == st.escape && i+1 < len(s) && (s[i+1] == st.quote || s[i+1] == st.escape) && (st.escape != st.quote || s[i+1] == st.quote) {
							sb.WriteByte(s[i+1])
							i += 2
							continue
						}
						if c == st.quote {
							closed = true
							i++
							break
						}
						if c == '\n' {
							line++
						}
						sb.WriteByte(c)
						i++
					}
					if !closed {
						return nil, copyFormatError(st, startLine, "unterminated CSV quoted field")
					}
					continue
				}
				sb.WriteByte(s[i])
				i++
			}
			raw := s[begin:i]
			if !quoted && raw == st.null {
				fields = append(fields, nil)
			} else {
				v := sb.String()
				fields = append(fields, &v)
			}
			if i < len(s) && s[i] == st.delimiter {
				i++
				continue
			}
			break
		}
		// End of record: \n, \r\n or the end of the data.
		if i < len(s) && s[i] == '\r' {
			i++
		}
		if i < len(s) && s[i] == '\n' {
			i++
		}
		line++
		for _, f := range fields {
			if f != nil {
				if err := checkUTF8(st, startLine, *f); err != nil {
					return nil, err
				}
				if strings.IndexByte(*f, 0) >= 0 {
					return nil, pgerror.WithCode(fmt.Errorf("COPY %s, line %d: invalid byte sequence for encoding \"UTF8\": 0x00", st.table, startLine), codes.CharacterNotInRepertoire)
				}
			}
		}
		if first && st.header {
			first = false
			if err := checkHeader(st, schema, targets, fields); err != nil {
				return nil, err
			}
			continue
		}
		first = false
		if err := checkFieldCount(st, schema, targets, startLine, len(fields)); err != nil {
			return nil, err
		}
		rows = append(rows, copyRow{line: startLine, fields: fields})
	}
	return rows, nil
}

// copyEncoder renders rows for COPY TO.
type copyEncoder struct {
	st    *copyStmt
	force []bool
}

// line renders one row (nil values are NULL) with its newline. header rows are never NULL and,
// in CSV, quoted only where needed.
func (e copyEncoder) line(vals []*string, header bool) []byte {
	var b []byte
	for j, v := range vals {
		if j > 0 {
			b = append(b, e.st.delimiter)
		}
		if v == nil {
			b = append(b, e.st.null...)
			continue
		}
		if e.st.format == "csv" {
			b = e.csvField(b, *v, !header && e.force[j])
		} else {
			b = e.textField(b, *v)
		}
	}
	return append(b, '\n')
}

func (e copyEncoder) textField(b []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch c {
		case '\\':
			b = append(b, '\\', '\\')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\v':
			b = append(b, '\\', 'v')
		default:
			if c == e.st.delimiter {
				b = append(b, '\\')
			}
			b = append(b, c)
		}
	}
	return b
}

func (e copyEncoder) csvField(b []byte, v string, force bool) []byte {
	need := force || v == e.st.null || strings.IndexByte(v, e.st.delimiter) >= 0 || strings.IndexByte(v, e.st.quote) >= 0 ||
		strings.ContainsAny(v, "\r\n") || v == `\.` || (e.st.escape != e.st.quote && strings.IndexByte(v, e.st.escape) >= 0)
	if !need {
		return append(b, v...)
	}
	b = append(b, e.st.quote)
	for i := 0; i < len(v); i++ {
		if v[i] == e.st.quote || v[i] == e.st.escape {
			b = append(b, e.st.escape)
		}
		b = append(b, v[i])
	}
	return append(b, e.st.quote)
}
